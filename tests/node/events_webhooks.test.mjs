// Goal: a session paid through the hosted page produces events that arrive
// as webhooks verifiable by `stripe.webhooks.constructEvent` and by the
// `standardwebhooks` package (and fail both when tampered with), and that the
// unmodified `stripe` client reads back through the Events API byte for byte,
// with Stripe's list filters and pagination.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { Webhook } from 'standardwebhooks';
import { useStack, waitFor } from './support/stack.mjs';
import { startReceiver } from './support/receiver.mjs';
import { payWithCard } from './support/hosted_page.mjs';

let receiver;
let endpoint; // subscribed to '*', pointing at the receiver
let paid; // { session, deliveries: [{rawBody, headers}] }

const ctx = useStack({
  async setup(stack) {
    receiver = await startReceiver();
    endpoint = await new Stripe(stack.secretKey, stack.clientOptions)
      .webhookEndpoints.create({
        url: receiver.url('/webhooks'), enabled_events: ['*'],
      });
  },
  teardown: async () => receiver?.close(),
});
const client = (key = ctx.stack.secretKey) =>
  new Stripe(key, ctx.stack.clientOptions);

async function newSession(stripe, ref) {
  return stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: [{ price_data: { currency: 'usd', unit_amount: 1500,
      product_data: { name: 'Mug' } }, quantity: 1 }],
    success_url: 'http://127.0.0.1:9/thanks',
    client_reference_id: ref,
  });
}

/** Webhook deliveries (to the good path) about `sessionId`'s payment. */
function deliveriesFor(session) {
  return receiver.received.filter((r) => {
    if (r.path !== '/webhooks') {
      return false;
    }
    const obj = JSON.parse(r.rawBody).data.object;
    return obj.id === session.id || obj.id === session.payment_intent;
  });
}

async function rawGet(path, key = ctx.stack.secretKey) {
  const res = await fetch(`${ctx.stack.url}${path}`, {
    headers: { Authorization: `Bearer ${key}` },
  });
  return { status: res.status, text: await res.text() };
}

test('paying through the hosted page sends two signed webhooks', async () => {
  const stripe = client();
  const session = await newSession(stripe, 'paid-1');
  const outcome = await payWithCard(ctx.stack.url, session.id);
  assert.equal(outcome.status, 'complete');
  assert.equal(outcome.intent_status, 'succeeded');
  const deliveries = await waitFor(() => {
    const d = deliveriesFor(session);
    return d.length >= 2 ? d : null;
  }, 15_000, 'two webhooks');
  const types = deliveries.map((d) => JSON.parse(d.rawBody).type).sort();
  assert.deepEqual(types, ['checkout.session.completed',
    'payment_intent.succeeded']);
  paid = { session, deliveries };

  const completed = deliveries.find((d) =>
    JSON.parse(d.rawBody).type === 'checkout.session.completed');
  const obj = JSON.parse(completed.rawBody).data.object;
  assert.equal(obj.id, session.id);
  assert.equal(obj.status, 'complete');
  assert.equal(obj.payment_status, 'paid');
  assert.equal(obj.client_reference_id, 'paid-1');
});

test('webhooks verify with stripe.webhooks.constructEvent and '
  + 'standardwebhooks; a tampered body fails both', () => {
  assert.ok(paid, 'needs the paid session');
  const stripe = client();
  const wh = new Webhook(endpoint.secret);
  for (const d of paid.deliveries) {
    const event = stripe.webhooks.constructEvent(d.rawBody,
      d.headers['stripe-signature'], endpoint.secret);
    assert.equal(event.object, 'event');
    assert.match(event.id, /^evt_/);
    assert.equal(d.headers['webhook-id'], event.id);
    const std = wh.verify(d.rawBody, d.headers);
    assert.deepEqual(std, JSON.parse(d.rawBody));

    const tampered = d.rawBody.replace('"livemode":false', '"livemode":true');
    assert.notEqual(tampered, d.rawBody);
    assert.throws(() => stripe.webhooks.constructEvent(tampered,
      d.headers['stripe-signature'], endpoint.secret),
    Stripe.errors.StripeSignatureVerificationError);
    assert.throws(() => wh.verify(tampered, d.headers),
      (err) => err.name === 'WebhookVerificationError'
        || /signature/i.test(err.message));
    assert.throws(() => stripe.webhooks.constructEvent(d.rawBody,
      d.headers['stripe-signature'], 'whsec_wrong'),
    Stripe.errors.StripeSignatureVerificationError);
  }
});

test('events.retrieve returns the webhook body byte for byte', async () => {
  assert.ok(paid, 'needs the paid session');
  const stripe = client();
  for (const d of paid.deliveries) {
    const id = JSON.parse(d.rawBody).id;
    const raw = await rawGet(`/v1/events/${id}`);
    assert.equal(raw.status, 200);
    assert.equal(raw.text, d.rawBody);
    const event = await stripe.events.retrieve(id);
    assert.deepEqual({ ...event }, JSON.parse(d.rawBody));
  }
});

test('a declined card produces payment_intent.payment_failed', async () => {
  const stripe = client();
  const session = await newSession(stripe, 'declined-1');
  const outcome = await payWithCard(ctx.stack.url, session.id,
    '4000000000000002');
  assert.equal(outcome.status, 'open');
  assert.equal(outcome.intent_status, 'requires_payment_method');
  assert.ok(outcome.error_message);
  const [failed] = await waitFor(() => {
    const d = deliveriesFor(session);
    return d.length >= 1 ? d : null;
  }, 15_000, 'the payment_failed webhook');
  const event = JSON.parse(failed.rawBody);
  assert.equal(event.type, 'payment_intent.payment_failed');
  assert.equal(event.data.object.id, session.payment_intent);
  assert.equal(event.data.object.last_payment_error.code, 'card_declined');
  const listed = await stripe.events.list({
    type: 'payment_intent.payment_failed',
  });
  assert.deepEqual(listed.data.map((e) => e.id), [event.id]);
});

test('events.list: newest first, type filters, created filters and '
  + 'pagination', async () => {
  const stripe = client();
  // Two more paid sessions: 2 (paid) + 1 (declined) + 4 events in all.
  for (const ref of ['paid-2', 'paid-3']) {
    const s = await newSession(stripe, ref);
    await payWithCard(ctx.stack.url, s.id);
  }
  const all = await stripe.events.list({ limit: 100 });
  assert.equal(all.object, 'list');
  assert.equal(all.url, '/v1/events');
  assert.equal(all.has_more, false);
  assert.equal(all.data.length, 7);
  const ids = all.data.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length);
  const created = all.data.map((e) => e.created);
  assert.deepEqual(created, [...created].sort((a, b) => b - a));
  // The same event retrieved as listed, but for pending_webhooks: the
  // deliveries not yet made, which a delivery in between changes.
  const withoutPending = ({ pending_webhooks: pending, ...rest }) => {
    assert.ok(Number.isInteger(pending) && pending >= 0, String(pending));
    return rest;
  };
  for (const e of all.data) {
    const raw = await rawGet(`/v1/events/${e.id}`);
    assert.deepEqual(withoutPending(JSON.parse(raw.text)),
      withoutPending({ ...e }));
  }

  const wildcard = await stripe.events.list({ type: 'checkout.session.*' });
  assert.equal(wildcard.data.length, 3);
  assert.ok(wildcard.data.every((e) => e.type === 'checkout.session.completed'));
  const piAll = await stripe.events.list({ type: 'payment_intent.*' });
  assert.equal(piAll.data.length, 4);
  const exact = await stripe.events.list({ type: 'payment_intent.succeeded' });
  assert.equal(exact.data.length, 3);
  const none = await stripe.events.list({ type: 'charge.refunded' });
  assert.equal(none.data.length, 0);
  const types = await stripe.events.list({
    types: ['checkout.session.completed', 'payment_intent.payment_failed'],
  });
  assert.equal(types.data.length, 4);

  const newest = all.data[0].created;
  const oldest = all.data.at(-1).created;
  const future = await stripe.events.list({ created: { gt: newest } });
  assert.equal(future.data.length, 0);
  const window = await stripe.events.list({
    created: { gte: oldest, lte: newest }, limit: 100,
  });
  assert.deepEqual(window.data.map((e) => e.id), ids);
  const atNewest = await stripe.events.list({ created: newest, limit: 100 });
  assert.deepEqual(atNewest.data.map((e) => e.id),
    all.data.filter((e) => e.created === newest).map((e) => e.id));
  const beforeOldest = await stripe.events.list({ created: { lt: oldest } });
  assert.equal(beforeOldest.data.length, 0);

  const page1 = await stripe.events.list({ limit: 3 });
  assert.deepEqual(page1.data.map((e) => e.id), ids.slice(0, 3));
  assert.equal(page1.has_more, true);
  const page2 = await stripe.events.list({
    limit: 3, starting_after: page1.data.at(-1).id,
  });
  assert.deepEqual(page2.data.map((e) => e.id), ids.slice(3, 6));
  const back = await stripe.events.list({
    limit: 2, ending_before: page2.data[0].id,
  });
  assert.deepEqual(back.data.map((e) => e.id), ids.slice(1, 3));
  assert.equal(back.has_more, true);
  const filteredPage = await stripe.events.list({
    limit: 1, type: 'payment_intent.*', starting_after: ids[0],
  });
  assert.equal(filteredPage.data.length, 1);
  assert.equal(filteredPage.has_more, true);
  assert.ok(filteredPage.data[0].type.startsWith('payment_intent.'));

  const seen = [];
  await stripe.events.list({ limit: 2 }).autoPagingEach((e) => {
    seen.push(e.id);
  });
  assert.deepEqual(seen, ids);
  const seenTyped = await stripe.events
    .list({ limit: 1, type: 'payment_intent.succeeded' })
    .autoPagingToArray({ limit: 100 });
  assert.deepEqual(seenTyped.map((e) => e.id), all.data
    .filter((e) => e.type === 'payment_intent.succeeded').map((e) => e.id));
});

test('delivery_success=false lists events with a delivery not delivered',
  async () => {
    const stripe = client();
    const failing = await stripe.webhookEndpoints.create({
      url: receiver.url('/fail'), enabled_events: ['*'],
    });
    const before = (await stripe.events.list({ limit: 100 })).data
      .map((e) => e.id);
    // Every earlier event reached the good endpoint.
    await waitFor(async () => {
      const ok = await stripe.events.list({
        delivery_success: false, limit: 100 });
      return ok.data.length === 0;
    }, 10_000, 'earlier deliveries to be recorded');

    const session = await newSession(stripe, 'paid-failing');
    await payWithCard(ctx.stack.url, session.id);
    const fresh = await waitFor(async () => {
      const l = await stripe.events.list({ limit: 100 });
      const n = l.data.filter((e) => !before.includes(e.id));
      return n.length === 2 ? n : null;
    }, 10_000, 'the new events');
    const freshIds = fresh.map((e) => e.id).sort();
    // The failing endpoint keeps them undelivered (pending, then dead).
    const undelivered = await stripe.events.list({
      delivery_success: false, limit: 100 });
    assert.deepEqual(undelivered.data.map((e) => e.id).sort(), freshIds);
    const delivered = await stripe.events.list({
      delivery_success: true, limit: 100 });
    assert.deepEqual(delivered.data.map((e) => e.id).sort(), [...before].sort());
    await waitFor(() => receiver.received
      .filter((r) => r.path === '/fail').length >= 6, 10_000,
    'three tries per event at the failing endpoint');
    const stillUndelivered = await stripe.events.list({
      delivery_success: false, type: 'checkout.session.*' });
    assert.equal(stillUndelivered.data.length, 1);
    assert.equal(stillUndelivered.data[0].data.object.id, session.id);
    await stripe.webhookEndpoints.del(failing.id);
  });

test("events are the merchant's own: 404 and an empty list for another",
  async () => {
    const anyId = JSON.parse(paid.deliveries[0].rawBody).id;
    const other = await ctx.stack.createMerchant('Events Other Shop');
    const theirs = client(other.secretKey);
    await assert.rejects(theirs.events.retrieve(anyId), (err) => {
      assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(err.statusCode, 404);
      return true;
    });
    assert.equal((await theirs.events.list()).data.length, 0);
  });

test('bad Events API requests get Stripe errors', async () => {
  const stripe = client();
  await assert.rejects(stripe.events.retrieve('evt_nope'), (err) => {
    assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(err.statusCode, 404);
    assert.equal(err.code, 'resource_missing');
    return true;
  });
  const expectParam = (param) => (err) => {
    assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError,
      err.constructor.name);
    assert.equal(err.statusCode, 400);
    assert.equal(err.param, param);
    return true;
  };
  await assert.rejects(stripe.events.list({ limit: 101 }),
    expectParam('limit'));
  await assert.rejects(stripe.events.list({ colour: 'red' }),
    expectParam('colour'));
  await assert.rejects(stripe.events.list({ created: { after: 5 } }),
    expectParam('created[after]'));
  await assert.rejects(stripe.events.list({ created: { gte: 'soon' } }),
    expectParam('created[gte]'));
  await assert.rejects(stripe.events.list({ delivery_success: 'maybe' }),
    expectParam('delivery_success'));
  await assert.rejects(stripe.events.list({ starting_after: 'evt_nope' }),
    expectParam('starting_after'));
  await assert.rejects(stripe.events.list({
    starting_after: 'evt_a', ending_before: 'evt_b' }),
  expectParam('ending_before'));
  await assert.rejects(stripe.events.list({ type: 'a', types: ['b'] }),
    expectParam('types'));
  await assert.rejects(client('sk_test_wrong_key_0000000000').events.list(),
    Stripe.errors.StripeAuthenticationError);
});
