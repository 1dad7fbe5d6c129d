// Goal: the unmodified official `stripe` client creates, retrieves and lists
// checkout sessions against the PSP (host/port/protocol changed only), gets
// the error classes Stripe's own API would give it, and replays idempotent
// requests.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { useStack } from './support/stack.mjs';

const ctx = useStack();
const client = (key = ctx.stack.secretKey) =>
  new Stripe(key, ctx.stack.clientOptions);

function sessionParams(extra = {}) {
  return {
    mode: 'payment',
    line_items: [{
      price_data: {
        currency: 'eur',
        unit_amount: 2000,
        product_data: { name: 'T-shirt' },
      },
      quantity: 2,
    }],
    success_url: 'http://127.0.0.1:9/ok?session={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://127.0.0.1:9/cancel',
    ...extra,
  };
}

test('create returns a Stripe-shaped session with what was asked', async () => {
  const stripe = client();
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  const cs = await stripe.checkout.sessions.create(sessionParams({
    metadata: { order_id: '42', note: 'gift wrap' },
    client_reference_id: 'order-42',
    customer_email: 'ada@example.com',
    expires_at: expiresAt,
  }));
  assert.match(cs.id, /^cs_test_/);
  assert.equal(cs.object, 'checkout.session');
  assert.equal(cs.amount_total, 4000);
  assert.equal(cs.currency, 'eur');
  assert.equal(cs.mode, 'payment');
  assert.equal(cs.status, 'open');
  assert.equal(cs.payment_status, 'unpaid');
  assert.deepEqual(cs.metadata, { order_id: '42', note: 'gift wrap' });
  assert.equal(cs.client_reference_id, 'order-42');
  assert.equal(cs.customer_email, 'ada@example.com');
  assert.equal(cs.expires_at, expiresAt);
  assert.equal(cs.livemode, false);
  assert.match(cs.payment_intent, /^pi_/);
  assert.equal(cs.url, `${ctx.stack.url}/pay/${cs.id}`);
  assert.equal(cs.success_url,
    'http://127.0.0.1:9/ok?session={CHECKOUT_SESSION_ID}');
});

test('retrieve returns the same session', async () => {
  const stripe = client();
  const cs = await stripe.checkout.sessions.create(sessionParams({
    metadata: { k: 'v' },
  }));
  const again = await stripe.checkout.sessions.retrieve(cs.id);
  assert.deepEqual({ ...again }, { ...cs });
});

test('list pages newest first with limit, starting_after, ending_before and '
  + 'has_more; autoPagingEach sees every session once', async () => {
  const stripe = client();
  const created = [];
  for (let i = 0; i < 7; i += 1) {
    created.push((await stripe.checkout.sessions.create(sessionParams()))
      .id);
  }
  const all = await stripe.checkout.sessions.list({ limit: 100 });
  assert.equal(all.object, 'list');
  assert.equal(all.has_more, false);
  assert.equal(all.url, '/v1/checkout/sessions');
  const ids = all.data.map((s) => s.id);
  assert.equal(new Set(ids).size, ids.length, 'no duplicates');
  for (const id of created) {
    assert.ok(ids.includes(id), `${id} listed`);
  }
  const createdTimes = all.data.map((s) => s.created);
  assert.deepEqual(createdTimes, [...createdTimes].sort((a, b) => b - a),
    'newest first');

  // Manual pages of 3 follow the one full list exactly.
  const paged = [];
  let page = await stripe.checkout.sessions.list({ limit: 3 });
  for (let n = 0; n < 20; n += 1) {
    assert.ok(page.data.length <= 3);
    paged.push(...page.data.map((s) => s.id));
    if (!page.has_more) {
      break;
    }
    page = await stripe.checkout.sessions.list({
      limit: 3, starting_after: page.data.at(-1).id,
    });
  }
  assert.deepEqual(paged, ids);

  // ending_before: the page just before (newer than) a cursor.
  const before = await stripe.checkout.sessions.list({
    limit: 2, ending_before: ids[4],
  });
  assert.deepEqual(before.data.map((s) => s.id), ids.slice(2, 4));
  assert.equal(before.has_more, true);
  const first = await stripe.checkout.sessions.list({
    limit: 5, ending_before: ids[2],
  });
  assert.deepEqual(first.data.map((s) => s.id), ids.slice(0, 2));
  assert.equal(first.has_more, false);

  const seen = [];
  await stripe.checkout.sessions.list({ limit: 2 }).autoPagingEach((s) => {
    seen.push(s.id);
  });
  assert.deepEqual(seen, ids);
  const backwards = await stripe.checkout.sessions
    .list({ limit: 2, ending_before: ids.at(-1) })
    .autoPagingToArray({ limit: 100 });
  assert.deepEqual(backwards.map((s) => s.id), ids.slice(0, -1).reverse());
});

test('created filters select by creation second', async () => {
  const stripe = client();
  const cs = await stripe.checkout.sessions.create(sessionParams());
  const exact = await stripe.checkout.sessions.list({
    created: cs.created, limit: 100,
  });
  assert.ok(exact.data.some((s) => s.id === cs.id));
  assert.ok(exact.data.every((s) => s.created === cs.created));
  const later = await stripe.checkout.sessions.list({
    created: { gt: cs.created },
  });
  assert.equal(later.data.length, 0);
  const range = await stripe.checkout.sessions.list({
    created: { gte: cs.created - 3600, lte: cs.created }, limit: 100,
  });
  assert.ok(range.data.some((s) => s.id === cs.id));
});

test('a bad API key is a StripeAuthenticationError', async () => {
  const stripe = client('sk_test_not_a_real_key_000000000000');
  await assert.rejects(stripe.checkout.sessions.list(), (err) => {
    assert.ok(err instanceof Stripe.errors.StripeAuthenticationError,
      err.constructor.name);
    assert.equal(err.statusCode, 401);
    return true;
  });
});

test('missing and unknown parameters are StripeInvalidRequestError with '
  + 'param', async () => {
  const stripe = client();
  const { mode, ...noMode } = sessionParams();
  await assert.rejects(stripe.checkout.sessions.create(noMode), (err) => {
    assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(err.statusCode, 400);
    assert.equal(err.param, 'mode');
    assert.equal(err.code, 'parameter_missing');
    return true;
  });
  await assert.rejects(
    stripe.checkout.sessions.create(sessionParams({ colour: 'blue' })),
    (err) => {
      assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(err.param, 'colour');
      assert.equal(err.code, 'parameter_unknown');
      return true;
    });
  await assert.rejects(
    stripe.checkout.sessions.create(sessionParams({
      line_items: [{
        price_data: { currency: 'eur', unit_amount: -5,
          product_data: { name: 'x' } },
        quantity: 1,
      }],
    })),
    (err) => {
      assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(err.param, 'line_items[0][price_data][unit_amount]');
      return true;
    });
  await assert.rejects(stripe.checkout.sessions.list({ limit: 0 }),
    (err) => err instanceof Stripe.errors.StripeInvalidRequestError
      && err.param === 'limit');
  await assert.rejects(
    stripe.checkout.sessions.list({ starting_after: 'cs_test_nope' }),
    (err) => err instanceof Stripe.errors.StripeInvalidRequestError
      && err.param === 'starting_after');
});

test('an unknown id is a 404 StripeInvalidRequestError', async () => {
  const stripe = client();
  await assert.rejects(stripe.checkout.sessions.retrieve('cs_test_nope'),
    (err) => {
      assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(err.statusCode, 404);
      assert.equal(err.code, 'resource_missing');
      return true;
    });
});

test("another merchant's session is a 404", async () => {
  const stripe = client();
  const cs = await stripe.checkout.sessions.create(sessionParams());
  const other = await ctx.stack.createMerchant('Other Shop');
  await assert.rejects(client(other.secretKey).checkout.sessions.retrieve(
    cs.id), (err) => err.statusCode === 404);
  const theirs = await client(other.secretKey).checkout.sessions.list();
  assert.equal(theirs.data.length, 0);
});

test('the same Idempotency-Key replays the same session; different '
  + 'parameters are a StripeIdempotencyError', async () => {
  const stripe = client();
  const key = `node-suite-${Date.now()}-${Math.random()}`;
  const first = await stripe.checkout.sessions.create(
    sessionParams({ client_reference_id: 'idem' }), { idempotencyKey: key });
  const replay = await stripe.checkout.sessions.create(
    sessionParams({ client_reference_id: 'idem' }), { idempotencyKey: key });
  assert.deepEqual({ ...replay }, { ...first });
  assert.equal(replay.lastResponse.headers['idempotent-replayed'], 'true');
  await assert.rejects(
    stripe.checkout.sessions.create(
      sessionParams({ client_reference_id: 'changed' }),
      { idempotencyKey: key }),
    (err) => {
      assert.ok(err instanceof Stripe.errors.StripeIdempotencyError,
        err.constructor.name);
      return true;
    });
  const listed = await stripe.checkout.sessions.list({ limit: 100 });
  assert.equal(listed.data.filter((s) => s.client_reference_id === 'idem')
    .length, 1, 'the retry created nothing');
});
