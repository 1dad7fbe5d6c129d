// Goal: the example Node store's pure parts, without a PSP: flag parsing
// (defaults, bounds, rejections), the order book's rules (event ids applied
// once, status only moves forward, unknown and foreign events ignored,
// every map bounded) and HTML escaping of outside data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions, stripeConnection }
  from '../../examples/node_store/lib/options.mjs';
import { OrderBook, orderJson }
  from '../../examples/node_store/lib/order_book.mjs';
import { orderPage } from '../../examples/node_store/lib/pages.mjs';

const key = 'sk_test_abc123';
const psp = ['--psp-url', 'http://127.0.0.1:17001'];

test('options: defaults, env key, both flag forms', () => {
  const { options } = parseOptions(psp, { PSP_API_KEY: key });
  assert.deepEqual(options, { port: 8090, pspUrl: 'http://127.0.0.1:17001',
    secretKey: key, publicUrl: null, webhookSecret: null, journal: null });
  const more = parseOptions(['--port=0', '--psp-url=https://psp.test/',
    '--secret-key', key, '--public-url', 'http://127.0.0.1:9/shop/',
    '--webhook-secret', 'whsec_x'], {}).options;
  assert.equal(more.port, 0);
  assert.equal(more.pspUrl, 'https://psp.test');
  assert.equal(more.publicUrl, 'http://127.0.0.1:9/shop');
  assert.equal(more.webhookSecret, 'whsec_x');
  assert.equal(parseOptions([...psp, '--secret-key', key, '--journal',
    '/tmp/orders.jsonl'], {}).options.journal, '/tmp/orders.jsonl');
  assert.deepEqual(parseOptions(['-h'], {}), { help: true });
});

test('options: rejections name the flag', () => {
  const bad = [
    [[...psp], {}, /secret key/],
    [[...psp, '--secret-key', 'pk_test_x'], {}, /secret key/],
    [['--psp-url', 'ftp://x', '--secret-key', key], {}, /--psp-url/],
    [['--psp-url', 'http://127.0.0.1:1/v1', '--secret-key', key], {},
      /--psp-url/],
    [[...psp, '--secret-key', key, '--port', '70000'], {}, /--port/],
    [[...psp, '--secret-key', key, '--port', '-1'], {}, /--port/],
    [[...psp, '--secret-key', key, '--public-url', 'x'], {}, /--public-url/],
    [[...psp, '--secret-key', key, '--webhook-secret', 'abc'], {},
      /--webhook-secret/],
    [[...psp, '--secret-key', key, '--verbose'], {}, /unknown argument/],
    [[...psp, '--secret-key'], {}, /needs a value/],
    [[...psp, '--secret-key', key, '--journal', ''], {}, /--journal/],
    [[...psp, '--secret-key', key, '--journal', '/tmp/'], {}, /--journal/],
  ];
  for (const [argv, env, pattern] of bad) {
    const got = parseOptions(argv, env);
    assert.match(got.error ?? '', pattern, argv.join(' '));
  }
});

test('stripeConnection splits a base URL for new Stripe(key, ...)', () => {
  assert.deepEqual(stripeConnection('http://127.0.0.1:17001'),
    { host: '127.0.0.1', port: 17001, protocol: 'http' });
  assert.deepEqual(stripeConnection('https://psp.test'),
    { host: 'psp.test', port: 443, protocol: 'https' });
});

let counter = 0;
function bookWithOrder(limits = {}) {
  const book = new OrderBook(limits, () => `nso_${(counter += 1)}`);
  const { order } = book.create('hoodie', '2', 1_000);
  book.attachSession(order.id, { id: `cs_${order.id}`, url: 'http://psp/pay',
    payment_intent: `pi_${order.id}` });
  return { book, order };
}

const completed = (order, id = 'evt_1', paymentStatus = 'paid') => ({
  id, type: 'checkout.session.completed',
  data: { object: { id: order.session_id, client_reference_id: order.id,
    payment_status: paymentStatus, payment_intent: order.payment_intent } },
});
const failed = (order, id) => ({
  id, type: 'payment_intent.payment_failed',
  data: { object: { id: order.payment_intent,
    last_payment_error: { message: 'Your card was declined.' } } },
});
const refunded = (order, id, amount, full) => ({
  id, type: 'charge.refunded',
  data: { object: { id: 'ch_1', payment_intent: order.payment_intent,
    amount_refunded: amount, refunded: full } },
});

const expired = (order, id) => ({
  id, type: 'checkout.session.expired',
  data: { object: { id: order.session_id, client_reference_id: order.id,
    status: 'expired', payment_status: 'unpaid' } },
});

test('order book: an expired session expires a pending order, never a paid one',
  () => {
    const { book, order } = bookWithOrder();
    assert.equal(book.apply(expired(order, 'evt_e')).outcome, 'applied');
    assert.equal(order.status, 'expired');
    const other = bookWithOrder();
    other.book.apply(completed(other.order, 'evt_p'));
    assert.equal(other.book.apply(expired(other.order, 'evt_e2')).outcome,
      'ignored');
    assert.equal(other.order.status, 'paid');
  });

test('order book: create checks product, quantity and the size limit', () => {
  const book = new OrderBook({ ordersMax: 1 });
  assert.equal(book.create('nope', '1').status, 400);
  for (const q of ['0', '11', '1.5', '', '1e1', '-1']) {
    assert.equal(book.create('cap', q).status, 400, `quantity '${q}'`);
  }
  const { order } = book.create('cap', '3');
  assert.equal(order.amount, 5400);
  assert.match(order.id, /^nso_[0-9a-f]{12}$/);
  assert.equal(book.create('cap', '1').status, 503);
});

test('order book: paid once per event id; unpaid completion changes nothing',
  () => {
    const { book, order } = bookWithOrder();
    assert.equal(book.apply(completed(order, 'evt_u', 'unpaid')).outcome,
      'ignored');
    assert.equal(order.status, 'pending');
    assert.equal(book.apply(completed(order, 'evt_p'), 5_000).outcome,
      'applied');
    assert.equal(book.apply(completed(order, 'evt_p')).outcome, 'duplicate');
    assert.equal(order.status, 'paid');
    const doc = orderJson(order);
    assert.deepEqual(doc.events_seen.map((e) => e.id), ['evt_u', 'evt_p']);
    assert.equal(doc.paid_at, new Date(5_000).toISOString());
  });

test('order book: declines are counted once each, order stays pending', () => {
  const { book, order } = bookWithOrder();
  book.apply(failed(order, 'evt_f1'));
  book.apply(failed(order, 'evt_f1'));
  book.apply(failed(order, 'evt_f2'));
  assert.equal(order.failed_attempts, 2);
  assert.equal(order.status, 'pending');
  assert.equal(order.last_failure, 'Your card was declined.');
});

test('order book: refunds move forward only, whatever the event order', () => {
  const { book, order } = bookWithOrder();
  book.apply(completed(order, 'evt_p'));
  book.apply(refunded(order, 'evt_r1', 1000, false));
  assert.equal(order.status, 'partially_refunded');
  book.apply(refunded(order, 'evt_r2', 9000, true));
  assert.equal(order.status, 'refunded');
  assert.equal(order.amount_refunded, 9000);
  // A late, older partial refund or a redelivered completion: no downgrade.
  book.apply(refunded(order, 'evt_r0', 500, false));
  book.apply(completed(order, 'evt_p2'));
  assert.equal(order.status, 'refunded');
  assert.equal(order.amount_refunded, 9000);
});

test('order book: events of other shops and foreign sessions are unknown',
  () => {
    const { book, order } = bookWithOrder();
    const other = { id: 'evt_o', type: 'checkout.session.completed',
      data: { object: { id: 'cs_other', client_reference_id: 'ord_1',
        payment_status: 'paid' } } };
    assert.equal(book.apply(other).outcome, 'unknown_order');
    // Our order id on a session this store did not create for it.
    const foreign = completed(order, 'evt_x');
    foreign.data.object.id = 'cs_someone_else';
    assert.equal(book.apply(foreign).outcome, 'unknown_order');
    const strange = { id: 'evt_s', type: 'customer.created',
      data: { object: { id: 'cus_1' } } };
    assert.equal(book.apply(strange).outcome, 'unknown_order');
    assert.equal(order.status, 'pending');
  });

test('order book: remembered event ids and events per order are bounded',
  () => {
    const { book, order } = bookWithOrder({ eventIdsMax: 3,
      eventsPerOrderMax: 2 });
    for (let i = 0; i < 5; i += 1) {
      book.apply(failed(order, `evt_${i}`));
    }
    assert.equal(book.seenEvents.size, 3);
    assert.deepEqual(order.events_seen.map((e) => e.id), ['evt_3', 'evt_4']);
    // The oldest id was forgotten, so it would apply again: the bound is
    // the price of bounded memory, sized far above the PSP's retry window.
    assert.equal(book.apply(failed(order, 'evt_0')).outcome, 'applied');
    assert.equal(book.apply(failed(order, 'evt_4')).outcome, 'duplicate');
  });

test('the order page escapes what came from outside', () => {
  const { book, order } = bookWithOrder();
  book.apply({ id: 'evt_<b>', type: 'payment_intent.payment_failed',
    data: { object: { id: order.payment_intent,
      last_payment_error: { message: '<script>alert(1)</script>' } } } });
  const html = orderPage(order, 'success');
  assert.ok(!html.includes('<script>alert'));
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /evt_&lt;b&gt;/);
  assert.match(html, /http-equiv="refresh"/, 'pending pages refresh');
});
