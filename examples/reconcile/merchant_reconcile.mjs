#!/usr/bin/env node
// A merchant reconciles its store's orders with the PSP, using only the
// official `stripe` client: it lists the payment intents, refunds and
// balance transactions created in a time range (auto-pagination, so any
// number of pages), then compares them with the store's order records and
// prints every difference. Shows what a merchant can check on its own side,
// without access to the PSP's operator tools.
//
//   STRIPE_API_KEY=sk_test_... node merchant_reconcile.mjs \
//     --orders orders.json --from 1714521600 --to 1714608000 \
//     [--api-base http://127.0.0.1:8080]
//
// orders.json maps order id -> {"payment_intent": "pi_...", "amount": 2000,
// "currency": "usd", "status": "paid" | "authorized" | "canceled",
// "refunded": 0}. Exit code: 0 no differences, 1 differences, 2 usage,
// 3 the API or the orders file could not be read. Install the client once
// with `npm install` in this folder.

import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

/** The PSP status an order status expects. */
const expectedStatus = {
  paid: 'succeeded',
  authorized: 'requires_capture',
  canceled: 'canceled',
};

/** Every object of a list call, following has_more page after page. */
async function listAll(resource, params) {
  const out = [];
  for await (const item of resource.list({ ...params, limit: 100 })) {
    out.push(item);
  }
  return out;
}

/**
 * Compares `orders` with what the PSP holds for [from, to). Returns
 * {checked, differences: [{kind, order, payment_intent, expected, actual}]}.
 */
export async function reconcileOrders(stripe, orders, from, to) {
  const created = { gte: from, lt: to };
  const [intents, refunds, txns] = await Promise.all([
    listAll(stripe.paymentIntents, { created }),
    listAll(stripe.refunds, { created: { gte: from } }),
    listAll(stripe.balanceTransactions, { created: { gte: from } }),
  ]);
  const byId = new Map(intents.map((pi) => [pi.id, pi]));
  const refundIntent = new Map(refunds.map((r) => [r.id, r.payment_intent]));
  // Money per intent as the balance shows it: charges and refunds.
  const charged = new Map();
  const refunded = new Map();
  for (const t of txns) {
    if (t.type === 'charge') {
      charged.set(t.source, (charged.get(t.source) ?? 0) + t.amount);
    } else if (t.type === 'refund') {
      const pi = refundIntent.get(t.source);
      refunded.set(pi, (refunded.get(pi) ?? 0) - t.amount);
    }
  }
  const differences = [];
  const add = (kind, order, pi, expected, actual) =>
    differences.push({ kind, order, payment_intent: pi, expected, actual });
  const claimed = new Set();
  for (const [order, rec] of Object.entries(orders)) {
    const pi = byId.get(rec.payment_intent);
    claimed.add(rec.payment_intent);
    if (!pi) {
      add('missing_payment_intent', order, rec.payment_intent, 'exists', null);
      continue;
    }
    const status = expectedStatus[rec.status] ?? rec.status;
    if (pi.status !== status) {
      add('status_mismatch', order, pi.id, status, pi.status);
    }
    if (pi.amount !== rec.amount) {
      add('amount_mismatch', order, pi.id, rec.amount, pi.amount);
    }
    if ((rec.currency ?? pi.currency) !== pi.currency) {
      add('currency_mismatch', order, pi.id, rec.currency, pi.currency);
    }
    if (pi.status === 'succeeded') {
      const inBalance = charged.get(pi.latest_charge);
      if (inBalance !== pi.amount_received) {
        add('balance_mismatch', order, pi.id, pi.amount_received,
          inBalance ?? null);
      }
    }
    const refundedInBalance = refunded.get(pi.id) ?? 0;
    if (refundedInBalance !== (rec.refunded ?? 0)) {
      add('refund_mismatch', order, pi.id, rec.refunded ?? 0,
        refundedInBalance);
    }
  }
  for (const pi of intents) {
    // Money the store does not know about: captured or held, no order.
    if (!claimed.has(pi.id)
        && ['succeeded', 'requires_capture'].includes(pi.status)) {
      add('no_order', null, pi.id, null, pi.status);
    }
  }
  return { checked: Object.keys(orders).length, differences };
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) {
      return null;
    }
    opts[argv[i].slice(2)] = argv[i + 1];
  }
  return opts;
}

/** The command line; returns the exit code. */
export async function main(argv, { Stripe, env = process.env,
  out = console.log } = {}) {
  const opts = parseArgs(argv);
  const from = Number(opts?.from);
  const to = Number(opts?.to);
  const key = opts?.['api-key'] ?? env.STRIPE_API_KEY;
  if (!opts || !opts.orders || !key || !Number.isInteger(from)
      || !Number.isInteger(to) || from >= to) {
    out('usage: merchant_reconcile.mjs --orders FILE --from S --to S '
      + '[--api-base URL] [--api-key sk_...] (or STRIPE_API_KEY)');
    return 2;
  }
  const orders = JSON.parse(await readFile(opts.orders, 'utf8'));
  const config = { maxNetworkRetries: 2 };
  if (opts['api-base']) {
    const base = new URL(opts['api-base']);
    Object.assign(config, { host: base.hostname, port: base.port,
      protocol: base.protocol.replace(':', '') });
  }
  const report = await reconcileOrders(new Stripe(key, config), orders,
    from, to);
  for (const d of report.differences) {
    out(`difference ${d.kind} order=${d.order ?? '-'} `
      + `payment_intent=${d.payment_intent} expected=${JSON.stringify(d.expected)} `
      + `actual=${JSON.stringify(d.actual)}`);
  }
  out(`checked ${report.checked} orders: ${report.differences.length} `
    + 'differences');
  return report.differences.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { default: Stripe } = await import('stripe');
  try {
    process.exitCode = await main(process.argv.slice(2), { Stripe });
  } catch (err) {
    // The API could not be read (connection, key, a bad orders file): say
    // why in one line rather than with a stack trace.
    console.error(`merchant_reconcile: ${err.message}`);
    process.exitCode = 3;
  }
}
