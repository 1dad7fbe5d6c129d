// Goal: the example Node store (examples/node_store, the unmodified `stripe`
// package) sells through a real PSP: it registers its webhook endpoint,
// redirects a buyer (303) to the hosted page, turns the order paid from the
// signed checkout.session.completed, counts declines, turns refunded from
// charge.refunded, rejects forged or oversized webhooks without changing
// anything, applies a redelivered event once, keeps its orders and endpoint
// across a kill -9 with --journal (catching up on what was paid meanwhile),
// and stops cleanly on SIGTERM (deleting its endpoint unless journaled).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { freePort, useStack, waitFor } from './support/stack.mjs';
import { payWithCard } from './support/hosted_page.mjs';
import { Journal } from '../../examples/node_store/lib/journal.mjs';
import { OrderBook } from '../../examples/node_store/lib/order_book.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const storeDir = path.resolve(here, '..', '..', 'examples', 'node_store');
const startTimeoutMs = 30_000;
const webhookWaitMs = 15_000;
const stopWaitMs = 5_000;

/** npm ci in the store's folder when its node_modules is missing. */
function ensureStoreModules() {
  if (existsSync(path.join(storeDir, 'node_modules', 'stripe'))) {
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    execFile('npm', ['ci', '--no-audit', '--no-fund'],
      { cwd: storeDir, timeout: 180_000 }, (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`npm ci in ${storeDir}: ${err.message}\n${stderr}`));
        } else {
          resolve();
        }
      });
  });
}

/** Starts store.mjs against the stack; resolves once it printed its line. */
async function startShop(stack, extraArgs = [], fixedPort = null) {
  await ensureStoreModules();
  const port = fixedPort ?? await freePort();
  const s = { url: `http://127.0.0.1:${port}`, out: '', exit: null };
  s.child = spawn(process.execPath, [path.join(storeDir, 'store.mjs'),
    '--port', String(port), '--psp-url', stack.url,
    '--public-url', s.url, ...extraArgs],
  { env: { ...process.env, PSP_API_KEY: stack.secretKey },
    stdio: ['ignore', 'pipe', 'pipe'] });
  s.child.stdout.on('data', (d) => { s.out += d; });
  s.child.stderr.on('data', (d) => { s.out += d; });
  s.exited = new Promise((resolve) => s.child.once('exit',
    (code, signal) => { s.exit = { code, signal }; resolve(s.exit); }));
  await waitFor(() => {
    if (s.exit) {
      throw new Error(`node-store exited: ${JSON.stringify(s.exit)}\n${s.out}`);
    }
    return s.out.includes(`node-store listening on 127.0.0.1:${port}\n`);
  }, startTimeoutMs, 'node-store start-up');
  return s;
}

/** SIGTERM, SIGKILL after stopWaitMs; resolves to {code, signal}. */
async function stopShop(s) {
  if (!s?.child || s.exit) {
    return s?.exit ?? null;
  }
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), stopWaitMs);
  await s.exited;
  clearTimeout(timer);
  return s.exit;
}

let shop = null; // the store under test, started once for the file
const ctx = useStack({
  setup: async (stack) => { shop = await startShop(stack); },
  teardown: () => stopShop(shop),
});
const stripe = () => new Stripe(ctx.stack.secretKey, ctx.stack.clientOptions);

async function orders(url = shop.url) {
  const res = await fetch(`${url}/orders.json`);
  assert.equal(res.status, 200);
  return (await res.json()).orders;
}
const order = async (id) => (await orders()).find((o) => o.id === id);

/** POST /buy; returns {order, location} after checking the 303. */
async function buy(product = 'hoodie', quantity = '1', url = shop.url) {
  const res = await fetch(`${url}/buy`, {
    method: 'POST', body: new URLSearchParams({ product, quantity }),
    redirect: 'manual',
  });
  await res.text();
  assert.equal(res.status, 303);
  const location = res.headers.get('location');
  const sessionId = location.split('/pay/')[1];
  const mine = (await orders(url)).find((o) => o.session_id === sessionId);
  assert.ok(mine, `an order for ${sessionId}`);
  return { order: mine, location, sessionId };
}

/** Follows the redirect and POSTs the card form as a browser would. */
async function payOnHostedPage(location, number = '4242424242424242') {
  const page = await fetch(location);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<form/);
  const res = await fetch(location, {
    method: 'POST', redirect: 'manual',
    body: new URLSearchParams({ number, exp: '12/30', cvc: '123',
      name: 'Ada Buyer', nonce: randomBytes(12).toString('hex') }),
  });
  await res.text();
  assert.equal(res.status, 303);
}

const waitStatus = (id, status) => waitFor(async () => {
  const o = await order(id);
  return o?.status === status ? o : null;
}, webhookWaitMs, `order ${id} to become ${status}`, 100);

async function health() {
  return (await fetch(`${shop.url}/healthz`)).json();
}

test('it registered its own webhook endpoint for the four events',
  async () => {
    const list = await stripe().webhookEndpoints.list({ limit: 100 });
    const mine = list.data.filter((e) => e.url === `${shop.url}/webhook`);
    assert.equal(mine.length, 1);
    assert.deepEqual([...mine[0].enabled_events].sort(),
      ['charge.refunded', 'checkout.session.completed',
        'checkout.session.expired', 'payment_intent.payment_failed']);
    assert.equal((await health()).webhook_endpoint, mine[0].id);
    const home = await fetch(`${shop.url}/`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /<form method="post" action="\/buy">/);
  });

test('buy -> 303 to the hosted page -> pay -> webhook -> order paid',
  async () => {
    const { order: pending, location, sessionId } = await buy('hoodie', '2');
    assert.equal(location, `${ctx.stack.url}/pay/${sessionId}`);
    assert.equal(pending.status, 'pending');
    assert.equal(pending.amount, 9000);
    assert.equal(pending.currency, 'eur');
    assert.match(pending.payment_intent, /^pi_/);
    const cs = await stripe().checkout.sessions.retrieve(sessionId);
    assert.equal(cs.client_reference_id, pending.id);
    assert.equal(cs.amount_total, 9000);
    assert.equal(cs.success_url, `${shop.url}/orders/${pending.id}`
      + '?checkout=success&session_id={CHECKOUT_SESSION_ID}');

    await payOnHostedPage(location);
    const paid = await waitStatus(pending.id, 'paid');
    assert.equal(paid.payment_intent, cs.payment_intent);
    assert.ok(paid.events_seen.some((e) => e.type
      === 'checkout.session.completed'));
    assert.equal(paid.failed_attempts, 0);
    const page = await fetch(`${shop.url}/orders/${pending.id}`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /class="status paid">paid</);
  });

test('a declined card counts a failed attempt; another card pays',
  async () => {
    const { order: o, sessionId } = await buy('cap');
    const declined = await payWithCard(ctx.stack.url, sessionId,
      '4000000000000002');
    assert.equal(declined.intent_status, 'requires_payment_method');
    await waitFor(async () => (await order(o.id)).failed_attempts === 1,
      webhookWaitMs, 'payment_intent.payment_failed at the store', 100);
    assert.equal((await order(o.id)).status, 'pending');
    await payWithCard(ctx.stack.url, sessionId);
    const paid = await waitStatus(o.id, 'paid');
    assert.equal(paid.failed_attempts, 1);
    assert.match(paid.last_failure, /declined/i);
  });

test('a refund by the merchant turns the order refunded via charge.refunded',
  async () => {
    const { order: o, location } = await buy('poster', '3');
    const early = await fetch(`${shop.url}/orders/${o.id}/refund`,
      { method: 'POST', redirect: 'manual' });
    assert.equal(early.status, 409, 'a pending order cannot be refunded');
    await early.text();
    await payOnHostedPage(location);
    await waitStatus(o.id, 'paid');
    const res = await fetch(`${shop.url}/orders/${o.id}/refund`,
      { method: 'POST', redirect: 'manual' });
    await res.text();
    assert.equal(res.status, 303);
    const refunded = await waitStatus(o.id, 'refunded');
    assert.equal(refunded.amount_refunded, 2700);
    assert.ok(refunded.events_seen.some((e) => e.type === 'charge.refunded'));
  });

test('forged webhooks are rejected with 400 and change nothing', async () => {
  const { order: o } = await buy('cap');
  const forged = JSON.stringify({
    id: `evt_forged_${randomBytes(6).toString('hex')}`, object: 'event',
    type: 'checkout.session.completed', created: Math.floor(Date.now() / 1000),
    data: { object: { id: o.session_id, object: 'checkout.session',
      client_reference_id: o.id, payment_status: 'paid', status: 'complete',
      payment_intent: o.payment_intent } },
  });
  const before = await health();
  const attempts = [
    Stripe.webhooks.generateTestHeaderString({ payload: forged,
      secret: `whsec_${randomBytes(24).toString('base64')}` }),
    `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`,
    '',
  ];
  for (const header of attempts) {
    const headers = { 'Content-Type': 'application/json' };
    if (header) {
      headers['Stripe-Signature'] = header;
    }
    const res = await fetch(`${shop.url}/webhook`, { method: 'POST', headers,
      body: forged });
    assert.equal(res.status, 400, `header '${header}'`);
    await res.text();
  }
  const after = await order(o.id);
  assert.equal(after.status, 'pending');
  assert.deepEqual(after.events_seen, []);
  const stats = (await health()).webhooks;
  assert.equal(stats.verified, before.webhooks.verified);
  assert.equal(stats.rejected, before.webhooks.rejected + attempts.length);
});

test('bad buys and oversized webhooks are refused', async () => {
  const count = (await orders()).length;
  for (const form of [{ product: 'nope', quantity: '1' },
    { product: 'cap', quantity: '0' }, { product: 'cap', quantity: '11' },
    { product: 'cap', quantity: '1e1' }]) {
    const res = await fetch(`${shop.url}/buy`, { method: 'POST',
      body: new URLSearchParams(form), redirect: 'manual' });
    await res.text();
    assert.equal(res.status, 400, JSON.stringify(form));
  }
  assert.equal((await orders()).length, count);
  const big = await fetch(`${shop.url}/webhook`, { method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: 'x'.repeat(300 * 1024) }).catch((err) => err);
  // Either the 413 arrives, or the store closed the socket mid-upload.
  assert.ok(big instanceof Error || big.status === 413, String(big.status));
  assert.equal((await fetch(`${shop.url}/orders/nso_missing`)).status, 404);
});

test('with --webhook-secret it registers nothing, applies a correctly '
  + 'signed event once and answers a redelivery as a duplicate', async () => {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const before = (await stripe().webhookEndpoints.list({ limit: 100 })).data;
  const second = await startShop(ctx.stack, ['--webhook-secret', secret]);
  try {
    const after = (await stripe().webhookEndpoints.list({ limit: 100 })).data;
    assert.equal(after.length, before.length, 'no endpoint registered');
    const { order: o } = await buy('cap', '1', second.url);
    const payload = JSON.stringify({
      id: `evt_${randomBytes(8).toString('hex')}`, object: 'event',
      type: 'checkout.session.completed',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: o.session_id, object: 'checkout.session',
        client_reference_id: o.id, payment_status: 'paid',
        payment_intent: o.payment_intent } },
    });
    const deliver = async () => {
      const res = await fetch(`${second.url}/webhook`, { method: 'POST',
        body: payload, headers: { 'Content-Type': 'application/json',
          'Stripe-Signature': Stripe.webhooks.generateTestHeaderString(
            { payload, secret }) } });
      assert.equal(res.status, 200);
      return (await res.json()).outcome;
    };
    assert.equal(await deliver(), 'applied');
    assert.equal(await deliver(), 'duplicate');
    const paid = (await orders(second.url)).find((x) => x.id === o.id);
    assert.equal(paid.status, 'paid');
    assert.equal(paid.events_seen.length, 1);
  } finally {
    assert.deepEqual(await stopShop(second), { code: 0, signal: null });
  }
});

test('with --journal, orders and the endpoint outlive a kill -9, and what '
  + 'was paid while the store was down is paid after its restart', async () => {
  const journal = path.join(mkdtempSync(path.join(os.tmpdir(), 'nstore-')),
    'orders.jsonl');
  const first = await startShop(ctx.stack, ['--journal', journal]);
  const port = Number(new URL(first.url).port);
  const healthOf = async (s) => (await fetch(`${s.url}/healthz`)).json();
  const statusAt = (s, id, status) => waitFor(async () => {
    const o = (await orders(s.url)).find((x) => x.id === id);
    return o?.status === status ? o : null;
  }, webhookWaitMs, `order ${id} to become ${status}`, 100);
  let second = null;
  try {
    const endpointId = (await healthOf(first)).webhook_endpoint;
    assert.match(endpointId, /^we_/);
    const before = await buy('hoodie', '1', first.url);
    await payOnHostedPage(before.location);
    const paid = await statusAt(first, before.order.id, 'paid');
    const later = await buy('cap', '1', first.url);
    first.child.kill('SIGKILL');
    await first.exited;
    // Paid while the store is down: the webhook has nowhere to go.
    await payOnHostedPage(later.location);

    second = await startShop(ctx.stack, ['--journal', journal], port);
    assert.match(second.out, /journal .*: \d+ records, 2 orders/);
    assert.match(second.out, new RegExp(`kept webhook endpoint ${endpointId}`));
    assert.equal((await healthOf(second)).webhook_endpoint, endpointId);
    const list = await stripe().webhookEndpoints.list({ limit: 100 });
    assert.equal(list.data.filter((e) => e.url === `${second.url}/webhook`)
      .length, 1, 'no second endpoint registered');
    const kept = (await orders(second.url)).find((x) => x.id === paid.id);
    assert.deepEqual(kept, paid);
    const caughtUp = await statusAt(second, later.order.id, 'paid');
    assert.ok(caughtUp.events_seen.some((e) => e.id === `sync_${later.sessionId}`
      || e.type === 'checkout.session.completed'));
  } finally {
    if (!first.exit) {
      first.child.kill('SIGKILL');
    }
    await stopShop(second);
  }
  assert.deepEqual(second.exit, { code: 0, signal: null }, second.out);
  // A journaled store keeps its endpoint at a clean stop too.
  const left = (await stripe().webhookEndpoints.list({ limit: 100 })).data
    .filter((e) => e.url === `${second.url}/webhook`);
  assert.equal(left.length, 1);
  await stripe().webhookEndpoints.del(left[0].id);
});

test('with --journal, an order journaled before its session was created gets '
  + 'that session at the next start, under the same Idempotency-Key', async () => {
  const journal = path.join(mkdtempSync(path.join(os.tmpdir(), 'nstore-')),
    'orders.jsonl');
  // What a store killed between journaling the order and the PSP's answer
  // leaves: the order, and a session the PSP created that nobody saw.
  const writer = Journal.open(journal);
  const { order: cut } = new OrderBook(undefined, undefined, writer)
    .create('poster', '2', Date.now());
  writer.close();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The store's own call (its `stripe` comes from its node_modules, which
  // exist once a store has started: imported here, not at the top).
  await ensureStoreModules();
  const { createCheckout } = await import(
    '../../examples/node_store/lib/psp.mjs');
  const unseen = await createCheckout(stripe(), cut, url);

  const shop2 = await startShop(ctx.stack, ['--journal', journal], port);
  try {
    const got = (await orders(shop2.url)).find((o) => o.id === cut.id);
    assert.equal(got.status, 'pending');
    assert.equal(got.session_id, unseen.id, 'the same session, not a second');
    assert.match(shop2.out, /created again after a stop/);
    const cs = await stripe().checkout.sessions.retrieve(unseen.id);
    assert.equal(cs.client_reference_id, cut.id);
    assert.equal(cs.amount_total, got.amount);
  } finally {
    await stopShop(shop2);
  }
  const endpoints = (await stripe().webhookEndpoints.list({ limit: 100 }))
    .data.filter((e) => e.url === `${url}/webhook`);
  await Promise.all(endpoints.map((e) => stripe().webhookEndpoints.del(e.id)));
});

test('SIGTERM stops it cleanly and removes its webhook endpoint', async () => {
  const exit = await stopShop(shop);
  assert.deepEqual(exit, { code: 0, signal: null }, shop.out);
  const list = await stripe().webhookEndpoints.list({ limit: 100 });
  assert.equal(list.data.filter((e) => e.url === `${shop.url}/webhook`)
    .length, 0);
});
