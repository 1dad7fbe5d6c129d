#!/usr/bin/env node
// node-store-demo: a shopper's round trip through the Node store, for
// run.sh. For each checkout it POSTs /buy at the store, follows the 303 to
// the PSP's hosted page, submits test cards there as the page's form would
// (every second checkout is declined first, then paid with a good card),
// and waits until the store's order turns paid from the signed webhook.
//
//   node demo.mjs --store URL [--pay-at URL] [--checkouts N] [--timeout-s S]
//
// --pay-at replaces the hosted page's origin (run.sh pays on another node to
// show any node serves any session). Exit 0 when every order is paid at the
// store, 1 otherwise, 2 on bad flags. Every wait is bounded by --timeout-s.

import { randomBytes } from 'node:crypto';

const pollMs = 100;
const requestTimeoutMs = 10_000;
const checkoutsMax = 100;
const timeoutSMax = 600;
const products = ['hoodie', 'cap', 'poster'];
const good = '4242424242424242';
const declined = '4000000000000002';

const flags = { '--store': 'store', '--pay-at': 'payAt',
  '--checkouts': 'checkouts', '--timeout-s': 'timeoutS' };

function parse(argv) {
  const o = { store: '', payAt: '', checkouts: '2', timeoutS: '30' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = flags[argv[i]];
    if (!key || argv[i + 1] === undefined) {
      return { error: `bad argument '${argv[i]}'` };
    }
    o[key] = argv[i + 1].replace(/\/+$/, '');
  }
  o.checkouts = Number(o.checkouts);
  o.timeoutS = Number(o.timeoutS);
  if (!/^https?:\/\//.test(o.store)) {
    return { error: '--store URL is needed' };
  }
  if (!Number.isInteger(o.checkouts) || o.checkouts < 1
      || o.checkouts > checkoutsMax) {
    return { error: `--checkouts must be 1..${checkoutsMax}` };
  }
  if (!Number.isInteger(o.timeoutS) || o.timeoutS < 1
      || o.timeoutS > timeoutSMax) {
    return { error: `--timeout-s must be 1..${timeoutSMax}` };
  }
  return { options: o };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const call = (url, init = {}) => fetch(url, { redirect: 'manual',
  signal: AbortSignal.timeout(requestTimeoutMs), ...init });

/** Polls `check` until it returns a value, or null after the deadline. */
async function until(deadline, check) {
  while (Date.now() < deadline) {
    const value = await check().catch(() => null);
    if (value) {
      return value;
    }
    await sleep(pollMs);
  }
  return null;
}

async function storeOrder(o, sessionId) {
  const res = await call(`${o.store}/orders.json`);
  const { orders } = await res.json();
  return orders.find((x) => x.session_id === sessionId) ?? null;
}

/** The outcome shown by status.json, or null while it is still open. */
function outcomeOf(s) {
  if (s.status === 'complete' && s.payment_status === 'paid') {
    return 'paid';
  }
  if (s.status === 'expired') {
    return 'expired';
  }
  if (s.intent_status === 'requires_payment_method' && s.error_message) {
    return 'declined';
  }
  return null;
}

/** One card on the hosted page: 'paid', 'declined' or what went wrong. */
async function payOnce(pageUrl, number, deadline) {
  const page = await call(pageUrl);
  await page.text();
  if (page.status !== 200) {
    return `GET hosted page: ${page.status}`;
  }
  const res = await call(pageUrl, { method: 'POST',
    body: new URLSearchParams({ number, exp: '12/30', cvc: '123',
      name: 'Node Demo Shopper', nonce: randomBytes(12).toString('hex') }) });
  await res.text();
  if (res.status !== 303) {
    return `POST card form: ${res.status}`;
  }
  return await until(deadline, async () =>
    outcomeOf(await (await call(`${pageUrl}/status.json`)).json()))
    ?? 'no outcome in time';
}

async function checkout(o, index) {
  const deadline = Date.now() + o.timeoutS * 1000;
  const bought = await call(`${o.store}/buy`, { method: 'POST',
    body: new URLSearchParams({ product: products[index % products.length],
      quantity: '1' }) });
  await bought.text();
  const location = bought.headers.get('location') ?? '';
  if (bought.status !== 303 || !location.includes('/pay/')) {
    return { error: `POST /buy: ${bought.status} ${location}` };
  }
  const sessionId = location.split('/pay/')[1];
  const pageUrl = o.payAt ? `${o.payAt}/pay/${sessionId}` : location;
  const cards = index % 2 === 1 ? [declined, good] : [good];
  const attempts = [];
  for (const number of cards) {
    const outcome = await payOnce(pageUrl, number, deadline);
    attempts.push(`${number.slice(-4)} ${outcome}`);
    if (outcome !== 'declined') {
      break;
    }
  }
  const order = await until(deadline, async () => {
    const x = await storeOrder(o, sessionId);
    return x && x.status === 'paid'
      && x.failed_attempts === cards.length - 1 ? x : null;
  }) ?? await storeOrder(o, sessionId).catch(() => null);
  return { sessionId, attempts, order };
}

async function main() {
  const parsed = parse(process.argv.slice(2));
  if (parsed.error) {
    process.stderr.write(`node-store-demo: ${parsed.error}\n`);
    return 2;
  }
  const o = parsed.options;
  let ok = 0;
  console.log('#   order            session           attempts (last4 '
    + 'outcome)     store    declines  events');
  for (let i = 0; i < o.checkouts; i += 1) {
    const r = await checkout(o, i).catch((err) => ({ error: err.message }));
    if (r.error) {
      console.log(`${i + 1}   ${r.error}`);
      continue;
    }
    const status = r.order?.status ?? '?';
    ok += status === 'paid' ? 1 : 0;
    console.log(`${String(i + 1).padEnd(4)}${(r.order?.id ?? '?').padEnd(17)}`
      + `${r.sessionId.slice(0, 15)}.. ${r.attempts.join(', ').padEnd(29)}`
      + `${status.padEnd(9)}${String(r.order?.failed_attempts ?? '?')
        .padEnd(10)}${r.order?.events_seen.length ?? '?'}`);
  }
  console.log(`node store: ${ok}/${o.checkouts} orders paid at the store `
    + `(from verified webhooks); orders: ${o.store}/orders.json`);
  return ok === o.checkouts ? 0 : 1;
}

process.exit(await main());
