// The store's HTTP routes (node:http, no framework). Handlers stay thin:
// the order book decides, pages.mjs renders, psp.mjs talks to the PSP.
//
//   GET  /                      products with Buy forms, recent orders
//   POST /buy                   product, quantity -> 303 to the hosted page
//   GET  /orders/:id            order page (?checkout=success|cancelled)
//   POST /orders/:id/refund     merchant action: refund a paid order
//   GET  /orders.json           every order as JSON, newest first
//   POST /webhook               signed PSP events (Stripe-Signature)
//   GET  /healthz               {"status":"ok", ...}

import { orderJson } from './order_book.mjs';
import { syncOrder } from './order_sync.mjs';
import { createCheckout, refundOrder } from './psp.mjs';
import { errorPage, orderPage, productPage } from './pages.mjs';

const formBytesMax = 8 * 1024;
const webhookBytesMax = 256 * 1024;

class BodyTooLarge extends Error {}

/** The raw body as a Buffer; rejects with BodyTooLarge past `bytesMax`. */
function readBody(req, bytesMax) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > bytesMax) {
        // The answer says Connection: close, so the rest is never read.
        req.pause();
        reject(new BodyTooLarge(`body over ${bytesMax} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': type,
    'Cache-Control': 'no-store', ...headers });
  res.end(body);
}
const sendHtml = (res, status, html) =>
  send(res, status, 'text/html; charset=utf-8', html);
const sendJson = (res, status, doc) =>
  send(res, status, 'application/json', `${JSON.stringify(doc)}\n`);

/** Builds the request handler; `store` holds book, stripe, config, log. */
export function makeHandler(store) {
  const routes = [
    ['GET', /^\/$/, home],
    ['POST', /^\/buy$/, buy],
    ['GET', /^\/orders\.json$/, ordersJson],
    ['GET', /^\/orders\/([A-Za-z0-9_]{1,64})$/, showOrder],
    ['POST', /^\/orders\/([A-Za-z0-9_]{1,64})\/refund$/, refund],
    ['POST', /^\/webhook$/, webhook],
    ['GET', /^\/healthz$/, health],
  ];
  return async (req, res) => {
    const url = new URL(req.url, 'http://store.invalid');
    try {
      for (const [method, pattern, handler] of routes) {
        const match = pattern.exec(url.pathname);
        if (match && req.method === method) {
          return await handler(store, req, res, match[1], url);
        }
      }
      sendHtml(res, 404, errorPage(404, 'no such page'));
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        return send(res, 413, 'application/json',
          `${JSON.stringify({ error: err.message })}\n`,
          { Connection: 'close' });
      }
      store.log(`error on ${req.method} ${url.pathname}: ${err.stack}`);
      if (!res.headersSent) {
        sendJson(res, 500, { error: 'internal error' });
      }
    }
  };
}

function home(store, req, res) {
  sendHtml(res, 200, productPage(store.book.list()));
}

async function buy(store, req, res) {
  const form = new URLSearchParams((await readBody(req, formBytesMax))
    .toString('utf8'));
  const made = store.book.create(form.get('product') ?? '',
    form.get('quantity') ?? '1');
  if (made.error) {
    return sendHtml(res, made.status, errorPage(made.status, made.error));
  }
  const { order } = made;
  let session;
  try {
    session = await createCheckout(store.stripe, order, store.publicUrl);
  } catch (err) {
    store.book.checkoutFailed(order.id, err.message);
    store.log(`checkout for ${order.id} failed: ${err.message}`);
    return sendHtml(res, 502, errorPage(502, 'the PSP did not create a '
      + `checkout: ${err.message}`));
  }
  store.book.attachSession(order.id, session);
  store.log(`order ${order.id} -> ${session.id}`);
  send(res, 303, 'text/plain', `See ${session.url}\n`,
    { Location: session.url });
}

function ordersJson(store, req, res) {
  sendJson(res, 200, { orders: store.book.list().map(orderJson) });
}

async function showOrder(store, req, res, id, url) {
  const order = store.book.get(id);
  if (!order) {
    return sendHtml(res, 404, errorPage(404, `no order ${id}`));
  }
  const banner = url.searchParams.get('checkout');
  if (banner === 'success') {
    // The shopper is back from paying: if the webhook has not come (yet,
    // or at all), the PSP says how the session ended.
    await syncOrder(store, order);
  }
  sendHtml(res, 200, orderPage(order, banner));
}

async function refund(store, req, res, id) {
  await readBody(req, formBytesMax);
  const order = store.book.get(id);
  if (!order) {
    return sendHtml(res, 404, errorPage(404, `no order ${id}`));
  }
  if (order.status !== 'paid') {
    return sendHtml(res, 409, errorPage(409, `order ${id} is ${order.status}`
      + ', only a paid order can be refunded'));
  }
  try {
    const r = await refundOrder(store.stripe, order);
    store.log(`refund ${r.id} for ${order.id}: ${r.status}`);
  } catch (err) {
    return sendHtml(res, 502, errorPage(502, `refund failed: ${err.message}`));
  }
  // The order turns refunded when charge.refunded arrives.
  send(res, 303, 'text/plain', 'refund requested\n',
    { Location: `/orders/${order.id}` });
}

async function webhook(store, req, res) {
  const raw = await readBody(req, webhookBytesMax);
  if (!store.webhookSecret) {
    // Registration has not finished: the PSP retries later.
    return sendJson(res, 503, { error: 'webhook endpoint not registered yet' });
  }
  let event;
  try {
    event = store.stripe.webhooks.constructEvent(raw,
      req.headers['stripe-signature'] ?? '', store.webhookSecret);
  } catch (err) {
    store.stats.rejected += 1;
    store.log(`webhook rejected: ${err.message}`);
    return sendJson(res, 400, { error: 'invalid signature' });
  }
  store.stats.verified += 1;
  const { outcome, order } = store.book.apply(event);
  if (outcome === 'duplicate') {
    store.stats.duplicates += 1;
  }
  if (order) {
    store.log(`event ${event.id} ${event.type} -> ${order.id} ${outcome}, `
      + `now ${order.status}`);
  }
  // Unknown orders are acknowledged too: a retry would not make them known.
  sendJson(res, 200, { received: true, outcome });
}

function health(store, req, res) {
  sendJson(res, 200, {
    status: 'ok',
    webhook_endpoint: store.webhookEndpointId,
    orders: store.book.orders.size,
    webhooks: { ...store.stats },
  });
}
