// Goal: payment intents through the unmodified `stripe` client: create,
// confirm with Stripe's test payment methods or card details, automatic and
// manual capture (full and partial), cancel, retrieve and list, with the
// error classes Stripe raises (StripeCardError for declines). Every payment
// still goes through the durable queue and the card network simulator.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { useStack, waitFor } from './support/stack.mjs';

const ctx = useStack();
const client = () => new Stripe(ctx.stack.secretKey, {
  ...ctx.stack.clientOptions, maxNetworkRetries: 0,
});

test('create without a payment method waits for one', async () => {
  const pi = await client().paymentIntents.create({
    amount: 1500, currency: 'usd', metadata: { order: 'A-1' },
  });
  assert.match(pi.id, /^pi_/);
  assert.equal(pi.object, 'payment_intent');
  assert.equal(pi.status, 'requires_payment_method');
  assert.equal(pi.amount, 1500);
  assert.equal(pi.capture_method, 'automatic');
  assert.deepEqual(pi.metadata, { order: 'A-1' });
});

test('create with confirm=true and pm_card_visa succeeds', async () => {
  const pi = await client().paymentIntents.create({
    amount: 2000, currency: 'eur', payment_method: 'pm_card_visa',
    confirm: true,
  });
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount_received, 2000);
  assert.match(pi.latest_charge, /^ch_/);
  assert.equal(pi.payment_method, 'pm_card_visa');
  assert.equal(pi.payment_method_details.card.last4, '4242');
  const charge = await client().charges.retrieve(pi.latest_charge);
  assert.equal(charge.object, 'charge');
  assert.equal(charge.payment_intent, pi.id);
  assert.equal(charge.amount_captured, 2000);
  assert.equal(charge.captured, true);
});

test('automatic_payment_methods as Stripe\'s server-side guide sends it', async () => {
  // The guide's create: refused as an unknown parameter before the API audit.
  const stripe = client();
  const pi = await stripe.paymentIntents.create({
    amount: 2100, currency: 'usd',
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    payment_method: 'pm_card_visa', confirm: true,
  });
  assert.equal(pi.status, 'succeeded');
  assert.deepEqual(pi.automatic_payment_methods,
    { allow_redirects: 'never', enabled: true });
  assert.deepEqual(pi.payment_method_types, ['card']);
  const plain = await stripe.paymentIntents.create({ amount: 2100, currency: 'usd' });
  assert.equal(plain.automatic_payment_methods, null);
  await assert.rejects(
    stripe.paymentIntents.create({
      amount: 2100, currency: 'usd', payment_method_types: ['card'],
      automatic_payment_methods: { enabled: true },
    }),
    (err) => err.type === 'StripeInvalidRequestError'
      && err.param === 'automatic_payment_methods');
});

test('retrieve expands the charge and its fee, as integrations ask', async () => {
  const stripe = client();
  const pi = await stripe.paymentIntents.create({
    amount: 2600, currency: 'usd', payment_method: 'pm_card_visa',
    confirm: true,
  });
  const expanded = await stripe.paymentIntents.retrieve(pi.id, {
    expand: ['latest_charge.balance_transaction'],
  });
  assert.equal(expanded.latest_charge.id, pi.latest_charge);
  const txn = expanded.latest_charge.balance_transaction;
  assert.equal(txn.object, 'balance_transaction');
  assert.equal(txn.amount - txn.fee, txn.net);
  assert.ok(expanded.latest_charge.billing_details);
  await assert.rejects(
    stripe.paymentIntents.retrieve(pi.id, { expand: ['customer'] }),
    (err) => err instanceof Stripe.errors.StripeInvalidRequestError
      && err.param === 'expand');
});

test('create expands its answer, billing details kept on the charge', async () => {
  const stripe = client();
  const pi = await stripe.paymentIntents.create({
    amount: 2700, currency: 'usd', confirm: true,
    payment_method_data: {
      type: 'card',
      card: { number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123' },
      billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com' },
    },
    expand: ['latest_charge'],
  });
  assert.equal(pi.latest_charge.object, 'charge');
  assert.equal(pi.latest_charge.billing_details.name, 'Jenny Rosen');
  assert.equal(pi.latest_charge.billing_details.email, 'jenny@example.com');
  const refund = await stripe.refunds.create({
    payment_intent: pi.id, amount: 700, expand: ['charge'],
  });
  assert.equal(refund.charge.amount_refunded, 700);
});

test('a decline raises StripeCardError with code and decline_code', async () => {
  const stripe = client();
  await assert.rejects(
    stripe.paymentIntents.create({
      amount: 2000, currency: 'usd', payment_method: 'pm_card_chargeDeclined',
      confirm: true,
    }),
    (err) => {
      assert.ok(err instanceof Stripe.errors.StripeCardError, err.type);
      assert.equal(err.statusCode, 402);
      assert.equal(err.code, 'card_declined');
      assert.equal(err.decline_code, 'generic_decline');
      assert.equal(err.raw.payment_intent.status, 'requires_payment_method');
      // The declined card, as the client exposes it.
      assert.equal(err.payment_method.id, 'pm_card_chargeDeclined');
      assert.equal(err.payment_method.card.last4, '0002');
      return true;
    });
  await assert.rejects(
    stripe.paymentIntents.create({
      amount: 2000, currency: 'usd', confirm: true,
      payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
    }),
    (err) => err instanceof Stripe.errors.StripeCardError
      && err.decline_code === 'insufficient_funds');
  // Stripe's test cards: the error code, and the decline code it repeats.
  for (const [method, code, decline] of [
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card'],
    ['pm_card_chargeDeclinedLostCard', 'card_declined', 'lost_card'],
    ['pm_card_chargeDeclinedFraudulent', 'card_declined', 'fraudulent'],
  ]) {
    await assert.rejects(
      stripe.paymentIntents.create({
        amount: 2000, currency: 'usd', confirm: true, payment_method: method,
      }),
      (err) => {
        assert.equal(err.code, code, method);
        assert.equal(err.decline_code, decline, method);
        assert.equal(err.raw.payment_intent.last_payment_error.decline_code,
          decline, method);
        return true;
      });
  }
});

test('a declined intent can be confirmed again with another card', async () => {
  const stripe = client();
  const pi = await stripe.paymentIntents.create({ amount: 990, currency: 'usd' });
  await assert.rejects(
    stripe.paymentIntents.confirm(pi.id, {
      payment_method: 'pm_card_chargeDeclinedExpiredCard',
    }),
    (err) => err instanceof Stripe.errors.StripeCardError
      && err.code === 'expired_card');
  const failed = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(failed.last_payment_error.code, 'expired_card');
  const ok = await stripe.paymentIntents.confirm(pi.id, {
    payment_method: 'pm_card_mastercard',
  });
  assert.equal(ok.status, 'succeeded');
  assert.equal(ok.payment_method_details.card.brand, 'mastercard');
  assert.equal(ok.last_payment_error, null);
});

test('a payment method given at creation is used by confirm', async () => {
  const stripe = client();
  const pi = await stripe.paymentIntents.create({
    amount: 700, currency: 'usd', payment_method: 'pm_card_visa',
  });
  assert.equal(pi.status, 'requires_confirmation');
  const done = await stripe.paymentIntents.confirm(pi.id);
  assert.equal(done.status, 'succeeded');
});

test('card details in payment_method_data are checked and never echoed', async () => {
  const stripe = client();
  const year = new Date().getUTCFullYear() + 2;
  const pi = await stripe.paymentIntents.create({
    amount: 1234, currency: 'usd', confirm: true,
    payment_method_data: {
      type: 'card',
      card: { number: '4242424242424242', exp_month: '12', exp_year: String(year),
              cvc: '123' },
    },
  });
  assert.equal(pi.status, 'succeeded');
  assert.match(pi.payment_method, /^pm_/);
  assert.ok(!JSON.stringify(pi).includes('4242424242424242'));
  await assert.rejects(
    stripe.paymentIntents.create({
      amount: 1234, currency: 'usd', confirm: true,
      payment_method_data: {
        type: 'card',
        card: { number: '4242424242424241', exp_month: '12',
                exp_year: String(year), cvc: '123' },
      },
    }),
    (err) => {
      assert.ok(err instanceof Stripe.errors.StripeCardError);
      assert.equal(err.code, 'incorrect_number');
      assert.ok(!err.message.includes('4242424242424241'));
      return true;
    });
});

test('manual capture: authorize, capture part, the rest is released', async () => {
  const stripe = client();
  const pi = await stripe.paymentIntents.create({
    amount: 5000, currency: 'usd', capture_method: 'manual',
    payment_method: 'pm_card_visa', confirm: true,
  });
  assert.equal(pi.status, 'requires_capture');
  assert.equal(pi.capture_method, 'manual');
  assert.equal(pi.amount_capturable, 5000);
  assert.equal(pi.amount_received, 0);
  await assert.rejects(
    stripe.paymentIntents.capture(pi.id, { amount_to_capture: 6000 }),
    (err) => err instanceof Stripe.errors.StripeInvalidRequestError
      && err.param === 'amount_to_capture');
  const captured = await stripe.paymentIntents.capture(pi.id, {
    amount_to_capture: 3000,
  });
  assert.equal(captured.status, 'succeeded');
  assert.equal(captured.amount_received, 3000);
  assert.equal(captured.amount_capturable, 0);
  await assert.rejects(
    stripe.paymentIntents.capture(pi.id),
    (err) => err instanceof Stripe.errors.StripeInvalidRequestError
      && err.code === 'payment_intent_unexpected_state');
});

test('manual capture of the full amount, idempotently retried', async () => {
  const stripe = client();
  const pi = await stripe.paymentIntents.create({
    amount: 2500, currency: 'gbp', capture_method: 'manual',
    payment_method: 'pm_card_visa', confirm: true,
  });
  const key = `capture-${pi.id}`;
  const first = await stripe.paymentIntents.capture(pi.id, {},
    { idempotencyKey: key });
  const again = await stripe.paymentIntents.capture(pi.id, {},
    { idempotencyKey: key });
  assert.equal(first.status, 'succeeded');
  assert.equal(first.amount_received, 2500);
  assert.deepEqual(again, first);
  assert.equal(again.lastResponse.headers['idempotent-replayed'], 'true');
});

test('cancel releases an authorisation or closes an unpaid intent', async () => {
  const stripe = client();
  const held = await stripe.paymentIntents.create({
    amount: 4200, currency: 'usd', capture_method: 'manual',
    payment_method: 'pm_card_visa', confirm: true,
  });
  const released = await stripe.paymentIntents.cancel(held.id, {
    cancellation_reason: 'requested_by_customer',
  });
  assert.equal(released.status, 'canceled');
  assert.equal(released.cancellation_reason, 'requested_by_customer');
  assert.equal(released.amount_capturable, 0);
  assert.ok(released.canceled_at > 0);
  // The released hold's charge: approved once, so still paid; not captured,
  // and the release is not a refund (Stripe since 2025-03-31.basil).
  const charge = await stripe.charges.retrieve(released.latest_charge);
  assert.equal(charge.paid, true);
  assert.equal(charge.captured, false);
  assert.equal(charge.amount_captured, 0);
  assert.equal(charge.amount_refunded, 0);
  assert.equal(charge.refunded, false);

  const open = await stripe.paymentIntents.create({ amount: 800, currency: 'usd' });
  const closed = await stripe.paymentIntents.cancel(open.id);
  assert.equal(closed.status, 'canceled');
  await assert.rejects(
    stripe.paymentIntents.confirm(open.id, { payment_method: 'pm_card_visa' }),
    (err) => err.code === 'payment_intent_unexpected_state'
      // Stripe puts the intent as it stands into the error.
      && err.raw.payment_intent?.id === open.id
      && err.raw.payment_intent.status === 'canceled');

  const paid = await stripe.paymentIntents.create({
    amount: 800, currency: 'usd', payment_method: 'pm_card_visa', confirm: true,
  });
  await assert.rejects(stripe.paymentIntents.cancel(paid.id),
    (err) => err instanceof Stripe.errors.StripeInvalidRequestError
      && err.code === 'payment_intent_unexpected_state'
      && err.raw.payment_intent?.status === 'succeeded');
});

test('bad parameters are StripeInvalidRequestError with the param', async () => {
  const stripe = client();
  const cases = [
    [{ currency: 'usd' }, 'amount'],
    [{ amount: 10, currency: 'usd' }, 'amount'],
    [{ amount: 1000, currency: 'xyz' }, 'currency'],
    [{ amount: 1000, currency: 'usd', capture_method: 'later' }, 'capture_method'],
    [{ amount: 1000, currency: 'usd', payment_method: 'pm_card_nope' },
      'payment_method'],
    [{ amount: 1000, currency: 'usd', confirm: true }, 'payment_method'],
  ];
  for (const [params, param] of cases) {
    await assert.rejects(stripe.paymentIntents.create(params), (err) => {
      assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError,
        `${JSON.stringify(params)}: ${err.type}`);
      assert.equal(err.param, param, JSON.stringify(params));
      return true;
    });
  }
  await assert.rejects(stripe.paymentIntents.retrieve('pi_missing'),
    (err) => err.statusCode === 404 && err.code === 'resource_missing');
});

test('list pages through intents newest first', async () => {
  const stripe = client();
  const made = [];
  for (let i = 0; i < 5; i += 1) {
    made.push((await stripe.paymentIntents.create({
      amount: 100 + i, currency: 'usd',
    })).id);
  }
  const first = await stripe.paymentIntents.list({ limit: 3 });
  assert.equal(first.data.length, 3);
  assert.equal(first.has_more, true);
  assert.deepEqual(first.data.map((p) => p.id), made.slice(-3).reverse());
  const next = await stripe.paymentIntents.list({
    limit: 2, starting_after: first.data[2].id,
  });
  assert.deepEqual(next.data.map((p) => p.id), made.slice(0, 2).reverse());
});

test('checkout sessions: manual capture completes unpaid; expire closes', async () => {
  const stripe = client();
  const params = {
    mode: 'payment',
    line_items: [{ price_data: { currency: 'usd', unit_amount: 900,
      product_data: { name: 'Mug' } }, quantity: 1 }],
    success_url: 'http://127.0.0.1:9/ok',
    payment_intent_data: { capture_method: 'manual' },
  };
  const cs = await stripe.checkout.sessions.create(params);
  const pi = await stripe.paymentIntents.retrieve(cs.payment_intent);
  assert.equal(pi.capture_method, 'manual');
  // The shopper submits the hosted page's form (as the browser would).
  const year = (new Date().getUTCFullYear() + 2) % 100;
  const form = new URLSearchParams({
    number: '4242 4242 4242 4242', exp: `12/${year}`, cvc: '123',
    name: 'Ada', nonce: `n${Date.now()}`,
  });
  const posted = await fetch(cs.url, {
    method: 'POST', body: form, redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(posted.status, 303);
  await waitFor(async () => (await stripe.checkout.sessions.retrieve(cs.id))
    .status === 'complete', 10_000, 'session complete');
  const done = await stripe.checkout.sessions.retrieve(cs.id);
  assert.equal(done.payment_status, 'unpaid');
  const held = await stripe.paymentIntents.retrieve(cs.payment_intent);
  assert.equal(held.status, 'requires_capture');
  const captured = await stripe.paymentIntents.capture(held.id);
  assert.equal(captured.status, 'succeeded');
  assert.equal(captured.amount_received, 900);

  const other = await stripe.checkout.sessions.create(params);
  const expired = await stripe.checkout.sessions.expire(other.id);
  assert.equal(expired.status, 'expired');
  assert.equal(expired.url, null);
  const gone = await stripe.paymentIntents.retrieve(other.payment_intent);
  assert.equal(gone.status, 'canceled');
  await assert.rejects(stripe.checkout.sessions.expire(other.id),
    (err) => err instanceof Stripe.errors.StripeInvalidRequestError);
  const events = await stripe.events.list({ type: 'checkout.session.expired' });
  assert.ok(events.data.some((e) => e.data.object.id === other.id));
});
