// Every call the store makes to the PSP, through the unmodified official
// `stripe` client: only host, port and protocol differ from talking to
// Stripe itself.

import Stripe from 'stripe';
import { stripeConnection } from './options.mjs';

/** The events the store's endpoint subscribes to. */
export const enabledEvents = ['checkout.session.completed',
  'checkout.session.expired', 'payment_intent.payment_failed',
  'charge.refunded'];

const requestTimeoutMs = 10_000;
const networkRetriesMax = 2;        // the client's own retries per call
const registerDeadlineMs = 30_000;  // while the PSP is still starting
const registerRetryMs = 250;
const staleEndpointsMax = 1_000;    // endpoints listed when cleaning up
const syncTimeoutMs = 2_000;        // asking about one session

export function makeClient(secretKey, pspUrl) {
  return new Stripe(secretKey, {
    ...stripeConnection(pspUrl),
    timeout: requestTimeoutMs,
    maxNetworkRetries: networkRetriesMax,
    telemetry: false,
    appInfo: { name: 'psp-node-store', version: '0.1.0' },
  });
}

/**
 * Creates the order's Checkout Session. The Idempotency-Key is derived from
 * the order id, so the client's retries after a lost answer get the same
 * session back instead of a second one.
 */
export function createCheckout(stripe, order, publicUrl) {
  const page = `${publicUrl}/orders/${order.id}`;
  return stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: [{
      price_data: {
        currency: order.currency,
        unit_amount: order.unit_amount,
        product_data: { name: order.name },
      },
      quantity: order.quantity,
    }],
    success_url: `${page}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${page}?checkout=cancelled`,
    client_reference_id: order.id,
    metadata: { order_id: order.id, shop: 'node-store' },
  }, { idempotencyKey: `node-store-checkout-${order.id}` });
}

/** Refunds what is left of the order's payment (merchant action). */
export function refundOrder(stripe, order) {
  return stripe.refunds.create({
    payment_intent: order.payment_intent,
    metadata: { order_id: order.id },
  }, { idempotencyKey: `node-store-refund-${order.id}` });
}

/** True for failures worth retrying: no answer, or a 5xx. */
function transient(err) {
  return err instanceof Stripe.errors.StripeConnectionError
    || (err.statusCode ?? 0) >= 500;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Deletes the endpoints a previous run of this store registered for the same
 * URL: their secrets are lost, so every delivery to them would fail.
 */
async function removeStaleEndpoints(stripe, url, log) {
  const all = await stripe.webhookEndpoints.list({ limit: 100 })
    .autoPagingToArray({ limit: staleEndpointsMax });
  for (const we of all.filter((e) => e.url === url)) {
    await stripe.webhookEndpoints.del(we.id);
    log(`removed stale webhook endpoint ${we.id} for ${url}`);
  }
}

/**
 * Runs `call` until it answers, while the PSP cannot (it may be starting):
 * up to registerDeadlineMs, every registerRetryMs; anything but a
 * transient failure, or `stopping()`, ends it with the error.
 */
async function whileStarting(call, stopping) {
  const deadline = Date.now() + registerDeadlineMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (!transient(err) || stopping() || Date.now() > deadline) {
        throw err;
      }
      await sleep(registerRetryMs);
    }
  }
}

/**
 * Registers `url` for enabledEvents and returns the endpoint (with its
 * secret). Retries while the PSP cannot answer; a 4xx (bad key, bad URL)
 * fails at once.
 */
export function registerWebhook(stripe, url, { log, stopping }) {
  return whileStarting(async () => {
    await removeStaleEndpoints(stripe, url, log);
    return stripe.webhookEndpoints.create({
      url, enabled_events: enabledEvents,
      description: 'psp example Node store',
    });
  }, stopping);
}

/**
 * The endpoint `id` as the PSP has it, or null when it is gone (404).
 * Retries like registerWebhook while the PSP cannot answer.
 */
export function findWebhook(stripe, id, { stopping }) {
  return whileStarting(() => stripe.webhookEndpoints.retrieve(id)
    .catch((err) => {
      if (err.statusCode === 404) {
        return null;
      }
      throw err;
    }), stopping);
}

/**
 * What the PSP says of an order's Checkout Session, as an event the order
 * book applies like a webhook's (id `sync_<session>`, so it is applied
 * once): completed and paid, or expired; null while it is still open. For
 * deliveries that had nowhere to go while the store was down or before its
 * endpoint existed.
 */
export async function sessionOutcome(stripe, sessionId) {
  // Short and without retries: a shopper's page waits on it, and the next
  // sync or the webhook tells later anyway.
  const session = await stripe.checkout.sessions.retrieve(sessionId, {},
    { timeout: syncTimeoutMs, maxNetworkRetries: 0 });
  let type = null;
  if (session.status === 'complete' && session.payment_status === 'paid') {
    type = 'checkout.session.completed';
  } else if (session.status === 'expired') {
    type = 'checkout.session.expired';
  }
  return type && { id: `sync_${session.id}`, type,
    data: { object: session } };
}

/** Best effort at shutdown; bounded by the client's timeout. */
export async function deleteWebhook(stripe, id) {
  await stripe.webhookEndpoints.del(id, {}, { maxNetworkRetries: 0,
    timeout: 2_000 });
}
