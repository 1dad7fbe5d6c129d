// Goal: refunds (full, partial, several, never more than captured), the
// balance and balance transactions computed from the ledger, charges, and
// the refund events, through the unmodified `stripe` client.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { useStack, waitFor } from './support/stack.mjs';

const ctx = useStack();
const client = () => new Stripe(ctx.stack.secretKey, {
  ...ctx.stack.clientOptions, maxNetworkRetries: 0,
});

async function paid(amount, currency = 'usd') {
  return client().paymentIntents.create({
    amount, currency, payment_method: 'pm_card_visa', confirm: true,
  });
}

test('partial refunds add up and never exceed what was captured', async () => {
  const stripe = client();
  const pi = await paid(10_000);
  const r1 = await stripe.refunds.create({ payment_intent: pi.id, amount: 2500,
    reason: 'requested_by_customer', metadata: { rma: '7' } });
  assert.match(r1.id, /^re_/);
  assert.equal(r1.object, 'refund');
  assert.equal(r1.status, 'succeeded');
  assert.equal(r1.amount, 2500);
  assert.equal(r1.payment_intent, pi.id);
  assert.equal(r1.charge, pi.latest_charge);
  assert.equal(r1.reason, 'requested_by_customer');
  assert.deepEqual(r1.metadata, { rma: '7' });
  assert.match(r1.balance_transaction, /^txn_/);
  const r2 = await stripe.refunds.create({ charge: pi.latest_charge, amount: 5000 });
  assert.equal(r2.status, 'succeeded');
  await assert.rejects(
    stripe.refunds.create({ payment_intent: pi.id, amount: 2501 }),
    (err) => err instanceof Stripe.errors.StripeInvalidRequestError
      && err.code === 'amount_too_large');
  const rest = await stripe.refunds.create({ payment_intent: pi.id });
  assert.equal(rest.amount, 2500);
  await assert.rejects(
    stripe.refunds.create({ payment_intent: pi.id, amount: 1 }),
    (err) => err.code === 'charge_already_refunded');
  const charge = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(charge.amount_refunded, 10_000);
  assert.equal(charge.refunded, true);

  const listed = await stripe.refunds.list({ payment_intent: pi.id });
  assert.deepEqual(listed.data.map((r) => r.id), [rest.id, r2.id, r1.id]);
  const one = await stripe.refunds.retrieve(r1.id);
  assert.equal(one.amount, 2500);
});

test('refund errors: nothing captured, unknown ids, bad amounts', async () => {
  const stripe = client();
  const held = await stripe.paymentIntents.create({
    amount: 3000, currency: 'usd', capture_method: 'manual',
    payment_method: 'pm_card_visa', confirm: true,
  });
  await assert.rejects(stripe.refunds.create({ payment_intent: held.id }),
    (err) => err instanceof Stripe.errors.StripeInvalidRequestError
      && err.code === 'charge_not_captured');
  // A missing object named in the body is a 400 (404 is the URL's).
  await assert.rejects(stripe.refunds.create({ payment_intent: 'pi_nope' }),
    (err) => err.statusCode === 400 && err.code === 'resource_missing'
      && err.param === 'payment_intent');
  await assert.rejects(stripe.refunds.create({ charge: 'ch_nope' }),
    (err) => err.statusCode === 400 && err.code === 'resource_missing'
      && err.param === 'charge');
  await assert.rejects(stripe.refunds.create({}),
    (err) => err.code === 'parameter_missing');
  const pi = await paid(500);
  await assert.rejects(
    stripe.refunds.create({ payment_intent: pi.id, amount: -5 }),
    (err) => err.param === 'amount');
  await assert.rejects(stripe.refunds.retrieve('re_nope'),
    (err) => err.statusCode === 404);
});

test('refund events reach the event list: created, updated, charge.refunded', async () => {
  const stripe = client();
  const pi = await paid(4000);
  const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 });
  await waitFor(async () => {
    const evs = await stripe.events.list({ type: 'refund.*', limit: 100 });
    return evs.data.filter((e) => e.data.object.id === refund.id).length === 2;
  }, 10_000, 'refund events');
  const evs = await stripe.events.list({ type: 'refund.*', limit: 100 });
  const mine = evs.data.filter((e) => e.data.object.id === refund.id);
  assert.deepEqual(mine.map((e) => e.type).sort(),
    ['refund.created', 'refund.updated']);
  const updated = mine.find((e) => e.type === 'refund.updated');
  assert.equal(updated.data.object.status, 'succeeded');
  const charges = await stripe.events.list({ type: 'charge.refunded', limit: 100 });
  const ev = charges.data.find((e) => e.data.object.payment_intent === pi.id);
  assert.ok(ev, 'charge.refunded for the intent');
  assert.equal(ev.data.object.object, 'charge');
  assert.equal(ev.data.object.amount_refunded, 1000);
});

test('balance and balance transactions follow the ledger', async () => {
  const stripe = client();
  // A currency no other test uses, so the figures are this test's own.
  const before = await stripe.balance.retrieve();
  assert.equal(before.object, 'balance');
  assert.ok(!before.pending.some((b) => b.currency === 'chf'));
  const a = await paid(10_000, 'chf');
  const b = await paid(2_000, 'chf');
  await stripe.refunds.create({ payment_intent: b.id, amount: 500 });
  const txns = await stripe.balanceTransactions.list({ currency: 'chf', limit: 10 });
  assert.equal(txns.data.length, 3);
  const [refund, second, first] = txns.data;
  assert.equal(refund.type, 'refund');
  assert.equal(refund.amount, -500);
  assert.equal(refund.fee, 0);
  assert.equal(refund.net, -500);
  assert.equal(second.type, 'charge');
  assert.equal(second.source, b.latest_charge);
  assert.equal(first.amount, 10_000);
  assert.equal(first.net, first.amount - first.fee);
  assert.ok(first.fee > 0, 'fees are charged');
  const one = await stripe.balanceTransactions.retrieve(first.id);
  assert.deepEqual(one.id, first.id);
  const balance = await stripe.balance.retrieve();
  const chf = balance.pending.find((x) => x.currency === 'chf');
  const nets = txns.data.reduce((sum, t) => sum + t.net, 0);
  assert.equal(chf.amount, nets);
  const charges = await stripe.balanceTransactions.list({
    currency: 'chf', type: 'charge',
  });
  assert.deepEqual(charges.data.map((t) => t.id), [second.id, first.id]);
  assert.equal(a.amount_received, 10_000);
});
