// The store's orders, and how a verified webhook event changes them. No I/O
// here but through the journal it is given (journal.mjs): each change is
// one record, appended before it is applied, and applyRecord() is the one
// way a record changes the book, live or replayed at start. The routes call
// it, the unit tests drive it directly.
//
// Rules: an event id is applied at most once (the PSP retries deliveries);
// an order's status only moves forward (pending -> paid -> partially
// refunded -> refunded, or pending -> expired when its Checkout Session
// expired unpaid and what the cart held is released), because events are
// not ordered across types; a declined card is counted but leaves the order
// pending, since the shopper may try another card on the same Checkout
// Session.

import { randomBytes } from 'node:crypto';
import { findProduct } from './catalog.mjs';

const rank = { pending: 0, checkout_failed: 0, expired: 0.5, paid: 1,
  partially_refunded: 2, refunded: 3 };

/** Limits: every map here is bounded. */
export const limitsDefault = {
  ordersMax: 10_000,        // then POST /buy answers 503
  eventIdsMax: 100_000,     // remembered for deduplication, oldest forgotten
  eventsPerOrderMax: 50,    // events_seen kept per order, oldest dropped
  quantityMax: 10,
};

/** Order ids that cannot collide with the C++ store's ord_N ids. */
export const newOrderId = () => `nso_${randomBytes(6).toString('hex')}`;

function idOf(ref) {
  if (typeof ref === 'string') {
    return ref;
  }
  return ref && typeof ref.id === 'string' ? ref.id : '';
}

/**
 * What of an event's object the book reads (orderFor, transition): kept in
 * the journal instead of the whole object.
 */
function slimObject(object) {
  const slim = { id: object.id };
  for (const field of ['client_reference_id', 'payment_status', 'status',
    'amount_refunded', 'refunded']) {
    if (object[field] !== undefined) {
      slim[field] = object[field];
    }
  }
  if (object.payment_intent) {
    slim.payment_intent = idOf(object.payment_intent);
  }
  if (object.last_payment_error?.message !== undefined) {
    slim.last_payment_error = { message: object.last_payment_error.message };
  }
  return slim;
}

export class OrderBook {
  /** `journal`: null (memory only) or {append(record)}, which throws. */
  constructor(limits = {}, makeId = newOrderId, journal = null) {
    this.limits = { ...limitsDefault, ...limits };
    this.makeId = makeId;
    this.journal = journal;
    this.orders = new Map();   // id -> order, in creation order
    this.bySession = new Map();
    this.byIntent = new Map();
    this.seenEvents = new Set(); // insertion order: oldest first
  }

  /** Journals `record`, then applies it; returns what applying returns. */
  record(record) {
    this.journal?.append(record);
    return this.applyRecord(record);
  }

  /**
   * Applies one journal record (live or replayed). Throws for a record that
   * does not fit the book: a journal that disagrees cannot be trusted.
   */
  applyRecord(rec) {
    switch (rec?.op) {
      case 'order':
        if (typeof rec.order?.id !== 'string' || this.orders.has(rec.order.id)) {
          throw new Error('an order record without a new order id');
        }
        this.orders.set(rec.order.id, rec.order);
        return rec.order;
      case 'session': {
        const order = this.mustGet(rec.order);
        order.session_id = rec.session.id;
        order.session_url = rec.session.url;
        order.payment_intent = rec.session.payment_intent || null;
        this.bySession.set(order.session_id, order);
        if (order.payment_intent) {
          this.byIntent.set(order.payment_intent, order);
        }
        return order;
      }
      case 'checkout_failed': {
        const order = this.mustGet(rec.order);
        order.status = 'checkout_failed';
        order.checkout_error = rec.message;
        return order;
      }
      case 'event':
        return this.applyEvent(rec.event, rec.at);
      default:
        throw new Error(`unknown journal record '${rec?.op}'`);
    }
  }

  mustGet(id) {
    const order = this.orders.get(id);
    if (!order) {
      throw new Error(`a record for unknown order '${id}'`);
    }
    return order;
  }

  /** {order} or {error, status} for a bad product, quantity or a full book. */
  create(productId, quantityText, nowMs = Date.now()) {
    const product = findProduct(productId);
    if (!product) {
      return { error: 'unknown product', status: 400 };
    }
    const quantity = Number(quantityText);
    if (!/^\d{1,3}$/.test(String(quantityText)) || quantity < 1
        || quantity > this.limits.quantityMax) {
      return { error: `quantity must be 1 to ${this.limits.quantityMax}`,
        status: 400 };
    }
    if (this.orders.size >= this.limits.ordersMax) {
      return { error: 'the order book is full', status: 503 };
    }
    const order = {
      id: this.makeId(), status: 'pending', product: product.id,
      name: product.name, quantity, unit_amount: product.unitAmount,
      amount: product.unitAmount * quantity, currency: product.currency,
      session_id: null, session_url: null, payment_intent: null,
      failed_attempts: 0, last_failure: null, amount_refunded: 0,
      checkout_error: null, events_seen: [], created_ms: nowMs,
      paid_ms: null,
    };
    return { order: this.record({ op: 'order', order }) };
  }

  /** Records the Checkout Session created for an order. */
  attachSession(orderId, session) {
    this.record({ op: 'session', order: orderId, session: { id: session.id,
      url: session.url, payment_intent: idOf(session.payment_intent) } });
  }

  /** The PSP refused or did not answer the session create. */
  checkoutFailed(orderId, message) {
    this.record({ op: 'checkout_failed', order: orderId, message });
  }

  get(id) {
    return this.orders.get(id) ?? null;
  }

  /** Newest first. */
  list() {
    return [...this.orders.values()].reverse();
  }

  /**
   * Applies a verified event: {outcome, order}. outcome is 'duplicate',
   * 'unknown_order' (another shop of the same merchant, or a forgotten
   * order), 'ignored' (a type this store does not act on) or 'applied'.
   */
  apply(event, nowMs = Date.now()) {
    if (this.seenEvents.has(event.id)) {
      return { outcome: 'duplicate', order: null };
    }
    const object = event.data?.object ?? {};
    return this.record({ op: 'event', at: nowMs, event: { id: event.id,
      type: event.type, data: { object: slimObject(object) } } });
  }

  applyEvent(event, nowMs) {
    this.remember(event.id);
    const object = event.data?.object ?? {};
    const order = this.orderFor(event.type, object);
    if (!order) {
      return { outcome: 'unknown_order', order: null };
    }
    order.events_seen.push({ id: event.id, type: event.type });
    if (order.events_seen.length > this.limits.eventsPerOrderMax) {
      order.events_seen.shift();
    }
    const changed = transition(order, event.type, object, nowMs);
    return { outcome: changed ? 'applied' : 'ignored', order };
  }

  remember(eventId) {
    this.seenEvents.add(eventId);
    if (this.seenEvents.size > this.limits.eventIdsMax) {
      this.seenEvents.delete(this.seenEvents.values().next().value);
    }
  }

  orderFor(type, object) {
    if (type.startsWith('checkout.session.')) {
      const order = this.orders.get(object.client_reference_id);
      // Our id on a session we did not create is not our order.
      if (order && order.session_id === object.id) {
        return order;
      }
      return this.bySession.get(object.id) ?? null;
    }
    if (type.startsWith('payment_intent.')) {
      return this.byIntent.get(object.id) ?? null;
    }
    if (type.startsWith('charge.')) {
      return this.byIntent.get(idOf(object.payment_intent)) ?? null;
    }
    return null;
  }
}

function raise(order, status) {
  if (rank[status] > rank[order.status]) {
    order.status = status;
    return true;
  }
  return false;
}

/** Changes the order for one event; true when something changed. */
export function transition(order, type, object, nowMs) {
  switch (type) {
    case 'checkout.session.completed': {
      // A completed session can still be unpaid (delayed methods).
      if (object.payment_status !== 'paid') {
        return false;
      }
      order.payment_intent ??= idOf(object.payment_intent) || null;
      const changed = raise(order, 'paid');
      order.paid_ms ??= nowMs;
      return changed;
    }
    case 'checkout.session.expired':
      return raise(order, 'expired');
    case 'payment_intent.payment_failed':
      order.failed_attempts += 1;
      order.last_failure = object.last_payment_error?.message
        ?? 'payment failed';
      return true;
    case 'charge.refunded': {
      const refunded = Number.isSafeInteger(object.amount_refunded)
        ? object.amount_refunded : 0;
      order.amount_refunded = Math.max(order.amount_refunded, refunded);
      const full = object.refunded === true
        || order.amount_refunded >= order.amount;
      if (!full && order.amount_refunded === 0) {
        return false;
      }
      return raise(order, full ? 'refunded' : 'partially_refunded');
    }
    default:
      return false;
  }
}

/** The public JSON shape of an order (GET /orders.json). */
export function orderJson(order) {
  return {
    id: order.id,
    status: order.status,
    product: order.product,
    quantity: order.quantity,
    amount: order.amount,
    currency: order.currency,
    session_id: order.session_id,
    payment_intent: order.payment_intent,
    failed_attempts: order.failed_attempts,
    last_failure: order.last_failure,
    amount_refunded: order.amount_refunded,
    checkout_error: order.checkout_error,
    events_seen: order.events_seen.map((e) => ({ ...e })),
    created: new Date(order.created_ms).toISOString(),
    paid_at: order.paid_ms === null ? null : new Date(order.paid_ms)
      .toISOString(),
  };
}
