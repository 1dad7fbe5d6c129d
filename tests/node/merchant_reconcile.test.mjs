// Goal: the merchant-side reconciliation example (examples/reconcile), run
// with the official `stripe` client against a real node, finds nothing
// when the store's orders match and names exactly the one order that is
// deliberately wrong.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import { useStack } from './support/stack.mjs';
import { main, reconcileOrders } from '../../examples/reconcile/merchant_reconcile.mjs';

const ctx = useStack();
const client = () => new Stripe(ctx.stack.secretKey, {
  ...ctx.stack.clientOptions, maxNetworkRetries: 0,
});

test('orders that match give no differences; a wrong one is named', async () => {
  const stripe = client();
  const from = Math.floor(Date.now() / 1000) - 1;
  const pay = (amount, extra = {}) => stripe.paymentIntents.create({
    amount, currency: 'usd', payment_method: 'pm_card_visa', confirm: true,
    ...extra,
  });
  const a = await pay(2000);
  const b = await pay(1500);
  await stripe.refunds.create({ payment_intent: b.id, amount: 500 });
  const held = await pay(3000, { capture_method: 'manual' });
  const c = await pay(990);
  assert.equal(held.status, 'requires_capture');
  const to = Math.floor(Date.now() / 1000) + 2;
  const orders = {
    order_1: { payment_intent: a.id, amount: 2000, currency: 'usd', status: 'paid' },
    order_2: { payment_intent: b.id, amount: 1500, currency: 'usd', status: 'paid',
      refunded: 500 },
    order_3: { payment_intent: held.id, amount: 3000, currency: 'usd',
      status: 'authorized' },
    order_4: { payment_intent: c.id, amount: 990, currency: 'usd', status: 'paid' },
  };
  const clean = await reconcileOrders(stripe, orders, from, to);
  assert.deepEqual(clean, { checked: 4, differences: [] });

  // The store recorded order_4 at the wrong amount.
  const wrong = { ...orders, order_4: { ...orders.order_4, amount: 1090 } };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'merchant-reconcile-'));
  try {
    const file = path.join(dir, 'orders.json');
    writeFileSync(file, JSON.stringify(wrong));
    const lines = [];
    const code = await main(['--orders', file, '--from', String(from),
      '--to', String(to), '--api-base', ctx.stack.url,
      '--api-key', ctx.stack.secretKey], { Stripe, out: (l) => lines.push(l) });
    assert.equal(code, 1, lines.join('\n'));
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.equal(lines[0], `difference amount_mismatch order=order_4 `
      + `payment_intent=${c.id} expected=1090 actual=990`);
    assert.equal(lines[1], 'checked 4 orders: 1 differences');
    const usage = await main(['--orders', file], { Stripe, env: {},
      out: () => {} });
    assert.equal(usage, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pages through more intents than one page holds', async () => {
  const stripe = client();
  const from = Math.floor(Date.now() / 1000) - 1;
  const orders = {};
  for (let i = 0; i < 105; i += 1) {
    const pi = await stripe.paymentIntents.create({ amount: 100 + i,
      currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
    orders[`bulk_${i}`] = { payment_intent: pi.id, amount: 100 + i,
      currency: 'usd', status: 'paid' };
  }
  const to = Math.floor(Date.now() / 1000) + 2;
  const report = await reconcileOrders(stripe, orders, from, to);
  assert.equal(report.checked, 105);
  // The intents of the first test fall before `from` only if a second
  // passed; any of them found here are reported as no_order, nothing else.
  assert.deepEqual(report.differences.filter((d) => d.kind !== 'no_order'), []);
});
