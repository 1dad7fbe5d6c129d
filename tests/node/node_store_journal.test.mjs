// Goal: the example Node store's journal, without a PSP: a book replayed
// from its journal equals the book that wrote it (orders, sessions, events
// seen, so a redelivered event is still a duplicate); a torn last line is
// dropped and cut off, a bad line in the middle refuses the file; a failed
// write refuses the change and every later one; the saved endpoint is
// written 0600 and a file that is not one is an error, not "none".

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { endpointFile, Journal, loadEndpoint, saveEndpoint }
  from '../../examples/node_store/lib/journal.mjs';
import { OrderBook, orderJson }
  from '../../examples/node_store/lib/order_book.mjs';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'node-store-'));

let counter = 0;
const makeId = () => `nso_j${(counter += 1)}`;

/** A book on a fresh journal in `dir`. */
function journaledBook(dir) {
  const journal = Journal.open(path.join(dir, 'orders.jsonl'));
  return { journal, book: new OrderBook(undefined, makeId, journal) };
}

/** A second book replayed from the journal at `file`. */
function replayed(file) {
  const journal = Journal.open(file);
  const book = new OrderBook(undefined, makeId, journal);
  const result = journal.replay((r) => book.applyRecord(r));
  return { journal, book, result };
}

const snapshot = (book) => book.list().map(orderJson);

test('journal: a replayed book equals the one that wrote it', () => {
  const dir = tempDir();
  const { journal, book } = journaledBook(dir);
  const paid = book.create('hoodie', '2', 1_000).order;
  book.attachSession(paid.id, { id: 'cs_1', url: 'http://psp/pay/cs_1',
    payment_intent: 'pi_1' });
  const broken = book.create('cap', '1', 2_000).order;
  book.checkoutFailed(broken.id, 'the PSP did not answer');
  const declined = { id: 'evt_d', type: 'payment_intent.payment_failed',
    data: { object: { id: 'pi_1', amount: 4000,
      last_payment_error: { message: 'Your card was declined.',
        code: 'card_declined' } } } };
  const completed = { id: 'evt_c', type: 'checkout.session.completed',
    data: { object: { id: 'cs_1', client_reference_id: paid.id,
      payment_status: 'paid', payment_intent: 'pi_1',
      line_items: { data: new Array(50).fill({ description: 'x' }) } } } };
  assert.equal(book.apply(declined, 3_000).outcome, 'applied');
  assert.equal(book.apply(completed, 4_000).outcome, 'applied');
  assert.equal(book.apply({ id: 'evt_x', type: 'charge.refunded',
    data: { object: { id: 'ch_9', payment_intent: 'pi_other' } } })
    .outcome, 'unknown_order');
  journal.close();

  const again = replayed(journal.file);
  assert.deepEqual(again.result, { records: 7, tornBytes: 0 });
  assert.deepEqual(snapshot(again.book), snapshot(book));
  assert.equal(again.book.get(paid.id).status, 'paid');
  assert.equal(again.book.get(paid.id).failed_attempts, 1);
  // Seen before the restart: still a duplicate after it.
  assert.equal(again.book.apply(completed).outcome, 'duplicate');
  assert.equal(again.book.apply(declined).outcome, 'duplicate');
  assert.equal(again.book.apply({ ...declined, id: 'evt_d2' }).outcome,
    'applied');
  // Only what the book reads of an event is kept, not its whole object.
  const lines = fs.readFileSync(journal.file, 'utf8').trim().split('\n');
  assert.ok(!lines.some((l) => l.includes('line_items')));
  again.journal.close();
  assert.equal(replayed(journal.file).book.get(paid.id).failed_attempts, 2);
});

test('journal: a torn last line is dropped and cut off; a bad middle line '
  + 'refuses the file', () => {
  const dir = tempDir();
  const { journal, book } = journaledBook(dir);
  book.create('hoodie', '1', 1_000);
  book.create('cap', '3', 2_000);
  journal.close();
  const whole = fs.readFileSync(journal.file, 'utf8');
  fs.appendFileSync(journal.file, '{"op":"order","order":{"id":"nso_torn"');

  const again = replayed(journal.file);
  assert.equal(again.result.records, 2);
  assert.ok(again.result.tornBytes > 0);
  assert.equal(again.book.orders.size, 2);
  assert.equal(fs.readFileSync(journal.file, 'utf8'), whole);
  again.book.create('hoodie', '1', 3_000); // appends after the cut
  again.journal.close();
  assert.equal(replayed(journal.file).book.orders.size, 3);

  const lines = whole.split('\n');
  fs.writeFileSync(journal.file, `${lines[0]}\nnot json\n${lines[1]}\n`);
  assert.throws(() => replayed(journal.file), /line 2 is not JSON/);
  fs.writeFileSync(journal.file,
    '{"op":"session","order":"nso_nobody","session":{"id":"cs_1"}}\n');
  assert.throws(() => replayed(journal.file), /unknown order 'nso_nobody'/);
});

test('journal: a failed write changes nothing and refuses later ones', () => {
  const dir = tempDir();
  const { journal, book } = journaledBook(dir);
  const { order } = book.create('hoodie', '1', 1_000);
  fs.closeSync(journal.fd); // every write now fails
  assert.throws(() => book.attachSession(order.id, { id: 'cs_1',
    url: 'http://psp/pay/cs_1', payment_intent: 'pi_1' }));
  assert.equal(book.get(order.id).session_id, null);
  assert.throws(() => book.create('cap', '1', 2_000), /refuses writes/);
  assert.equal(book.orders.size, 1);
});

test('journal: the saved endpoint is 0600; a file that is not one throws',
  () => {
    const dir = tempDir();
    const file = endpointFile(path.join(dir, 'orders.jsonl'));
    assert.equal(loadEndpoint(file), null);
    const ep = { id: 'we_abc', secret: 'whsec_s3cret',
      url: 'http://127.0.0.1:9/webhook' };
    saveEndpoint(file, ep);
    assert.deepEqual(loadEndpoint(file), ep);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    fs.writeFileSync(file, '{"id":"we_abc","secret":"nope","url":"x"}');
    assert.throws(() => loadEndpoint(file), /not a saved webhook endpoint/);
    fs.writeFileSync(file, 'garbage');
    assert.throws(() => loadEndpoint(file), /not a saved webhook endpoint/);
  });
