// Bringing pending orders up to date from the PSP, for what no webhook
// could tell: at start (what was paid or expired while the store was down,
// and the sessions a stop cut off before the PSP answered) and when a
// shopper lands back on an order's success page. The webhook stays the
// main path; these go through the same journaled order-book steps.

import { createCheckout, sessionOutcome } from './psp.mjs';

/**
 * Applies what the PSP says of a pending order's session; false when it
 * could not ask (logged): the webhook, or the next sync, will tell.
 */
export async function syncOrder(store, order) {
  if (order.status !== 'pending' || !order.session_id) {
    return true;
  }
  try {
    const event = await sessionOutcome(store.stripe, order.session_id);
    if (event) {
      const { outcome } = store.book.apply(event);
      store.log(`sync ${order.session_id} -> ${order.id} ${outcome}, `
        + `now ${order.status}`);
    }
    return true;
  } catch (err) {
    store.log(`sync of ${order.id} (${order.session_id}) failed: `
      + `${err.message}`);
    return false;
  }
}

/**
 * A pending order without a session: the store stopped between journaling
 * the order and the PSP's answer, so the shopper never got a checkout URL.
 * The create is sent again under the same Idempotency-Key, so a session the
 * PSP did create is the one attached, not a second one. False when the PSP
 * could not answer (the next start tries again).
 */
async function attachMissingSession(store, order) {
  try {
    const session = await createCheckout(store.stripe, order, store.publicUrl);
    store.book.attachSession(order.id, session);
    store.log(`order ${order.id} -> ${session.id} (created again after a stop)`);
    return true;
  } catch (err) {
    if ((err.statusCode ?? 0) >= 400 && err.statusCode < 500) {
      // Refused (e.g. the key was used with another public URL): no
      // shopper saw a session for it, so the order ends here.
      store.book.checkoutFailed(order.id, err.message);
      store.log(`checkout for ${order.id} failed after a stop: ${err.message}`);
      return true;
    }
    store.log(`checkout for ${order.id} not created again: ${err.message}`);
    return false;
  }
}

/** Consecutive failures after which the start-up sync gives up. */
const syncFailuresMax = 3;

/**
 * Asks the PSP about every pending order's session (at start): for what was
 * paid or expired while no webhook could reach this store, and creates the
 * sessions a stop cut off. Sequential, bounded by the order book's size; it
 * stops after syncFailuresMax failures in a row (the PSP is not answering:
 * the webhooks will tell).
 */
export async function syncPendingOrders(store) {
  let failuresInRow = 0;
  for (const order of store.book.list()) {
    const synced = order.status === 'pending' && !order.session_id
      ? await attachMissingSession(store, order)
      : await syncOrder(store, order);
    if (synced) {
      failuresInRow = 0;
    } else if (++failuresInRow >= syncFailuresMax) {
      store.log(`sync stopped after ${failuresInRow} failures in a row`);
      return;
    }
  }
}
