// HTML of the Node store's pages: pure functions from data to a string.
// Everything that came from outside (order fields, PSP messages) is escaped.

import { catalog, formatMoney } from './catalog.mjs';

const recentOrdersShown = 10;

export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

function layout(title, body, { refreshS = 0 } = {}) {
  const refresh = refreshS > 0
    ? `<meta http-equiv="refresh" content="${refreshS}">` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refresh}<title>${escapeHtml(title)} · Node Store</title>
<style>
body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;
padding:0 1rem;color:#222}
.card{border:1px solid #ddd;border-radius:8px;padding:1rem;margin:1rem 0}
.status{font-weight:bold;padding:.1rem .5rem;border-radius:4px;background:#eee}
.paid,.refunded,.partially_refunded{background:#d8f5d0}
.checkout_failed{background:#f8d7d7}
button{padding:.4rem 1rem}
table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:left}
</style></head><body>
<p><a href="/">Node Store</a> · <a href="/orders.json">orders.json</a></p>
${body}
</body></html>
`;
}

function productCard(p) {
  return `<div class="card"><h2>${escapeHtml(p.name)}</h2>
<p>${escapeHtml(p.blurb)}</p>
<p>${formatMoney(p.unitAmount, p.currency)}</p>
<form method="post" action="/buy">
<input type="hidden" name="product" value="${escapeHtml(p.id)}">
<label>Quantity <input type="number" name="quantity" value="1" min="1"
 max="10"></label>
<button type="submit">Buy</button></form></div>`;
}

function orderRow(o) {
  return `<tr><td><a href="/orders/${escapeHtml(o.id)}">${escapeHtml(o.id)}`
    + `</a></td><td>${escapeHtml(o.name)} × ${o.quantity}</td>`
    + `<td>${formatMoney(o.amount, o.currency)}</td>`
    + `<td><span class="status ${escapeHtml(o.status)}">`
    + `${escapeHtml(o.status)}</span></td></tr>`;
}

/** GET /: the products, each with a Buy form, and the latest orders. */
export function productPage(orders) {
  const recent = orders.slice(0, recentOrdersShown);
  const table = recent.length === 0 ? '' : `<h2>Recent orders</h2>
<table>${recent.map(orderRow).join('\n')}</table>`;
  return layout('Shop', `<h1>Node Store</h1>
<p>Paying happens on the PSP's hosted page; this shop never sees a card
number.</p>
${catalog().map(productCard).join('\n')}
${table}`);
}

function banner(checkout) {
  if (checkout === 'success') {
    return '<p class="card">Thank you! The PSP took your payment; this page '
      + 'turns <b>paid</b> when its signed webhook arrives.</p>';
  }
  if (checkout === 'cancelled') {
    return '<p class="card">Checkout cancelled. The order stays open.</p>';
  }
  return '';
}

function refundForm(order) {
  if (order.status !== 'paid') {
    return '';
  }
  return `<form method="post" action="/orders/${escapeHtml(order.id)}/refund">
<button type="submit">Refund (as the merchant)</button></form>`;
}

/** GET /orders/:id; refreshes itself while the order waits for a webhook. */
export function orderPage(order, checkout) {
  const pay = order.status === 'pending' && order.session_url
    ? `<p><a href="${escapeHtml(order.session_url)}">Pay now</a></p>` : '';
  const failures = order.failed_attempts === 0 ? '' : `<tr><th>declined
 attempts</th><td>${order.failed_attempts} (last: ${escapeHtml(
    order.last_failure)})</td></tr>`;
  const events = order.events_seen.map((e) => `<li><code>${escapeHtml(e.type)}`
    + `</code> ${escapeHtml(e.id)}</li>`).join('');
  const body = `<h1>Order ${escapeHtml(order.id)}</h1>
${banner(checkout)}
<p><span class="status ${escapeHtml(order.status)}">${escapeHtml(
    order.status)}</span></p>
<table>
<tr><th>item</th><td>${escapeHtml(order.name)} × ${order.quantity}</td></tr>
<tr><th>amount</th><td>${formatMoney(order.amount, order.currency)}</td></tr>
<tr><th>refunded</th><td>${formatMoney(order.amount_refunded,
    order.currency)}</td></tr>
<tr><th>session</th><td>${escapeHtml(order.session_id ?? '-')}</td></tr>
<tr><th>payment intent</th><td>${escapeHtml(order.payment_intent ?? '-')}
</td></tr>${failures}
${order.checkout_error ? `<tr><th>checkout error</th><td>${escapeHtml(
    order.checkout_error)}</td></tr>` : ''}
</table>
${pay}${refundForm(order)}
<h2>Webhook events</h2><ul>${events || '<li>none yet</li>'}</ul>`;
  return layout(`Order ${order.id}`, body,
    { refreshS: order.status === 'pending' ? 2 : 0 });
}

export function errorPage(status, message) {
  return layout(`Error ${status}`, `<h1>Error ${status}</h1>
<p>${escapeHtml(message)}</p>`);
}
