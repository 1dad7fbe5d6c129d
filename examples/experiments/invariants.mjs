// Reads what the system ended up with (simulator, Redis, the public and
// admin APIs) and checks the five invariants (three more with refunds, one
// with abandoned checkouts, one with partitions). Each check returns
// {name, title, pass, checked, summary, violations: [{id, what}], notes}.
// The checker reports what it finds; it never repairs or retries a payment.

import { request, requestJson, sleep } from './http.mjs';
import { GOOD_CARD_LAST4 } from './load.mjs';

const VIOLATIONS_KEPT = 200;

/** Runs fn over items with at most `limit` at once. */
export async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** GET (or POST) on any live node, a few tries; {status, json, body}. */
export async function apiCall(stack, path, { method = 'GET', auth = 'merchant', body,
  tries = 6 } = {}) {
  const headers = { Authorization: `Bearer ${auth === 'admin' ? stack.adminToken
    : stack.merchant.secretKey}` };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  }
  let last = null;
  for (let n = 0; n < tries; n++) {
    const live = stack.liveNodes();
    const node = live.length ? live[n % live.length] : null;
    if (node !== null) {
      try {
        const res = await requestJson(stack.nodeUrl(node), path,
          { method, headers, body, timeoutMs: 10_000 });
        if (res.status < 500) {
          return res;
        }
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = err.code ?? err.message;
      }
    }
    await sleep(200 * (n + 1));
  }
  throw new Error(`${method} ${path}: no usable answer (${last})`);
}

/** Every object of a Stripe list endpoint (limit/starting_after/has_more). */
export async function listAll(stack, path, pagesMax = 5000) {
  const out = [];
  let after = null;
  for (let page = 0; page < pagesMax; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await apiCall(stack, `${path}${sep}limit=100${after ? `&starting_after=${after}` : ''}`);
    if (res.status !== 200 || !res.json || !Array.isArray(res.json.data)) {
      throw new Error(`GET ${path}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    }
    out.push(...res.json.data);
    if (!res.json.has_more || !res.json.data.length) {
      return out;
    }
    after = res.json.data[res.json.data.length - 1].id;
  }
  throw new Error(`GET ${path}: more than ${pagesMax} pages`);
}

async function simGet(stack, path) {
  const res = await requestJson(stack.simUrl, path, { timeoutMs: 30_000 });
  if (res.status !== 200 || !res.json) {
    throw new Error(`simulator GET ${path}: HTTP ${res.status}`);
  }
  return res.json;
}

/** Every entry of a Redis stream: [{id, fields: {k: v}}]. */
export async function readStream(stack, key) {
  const out = [];
  let start = '-';
  for (let page = 0; page < 10_000; page++) {
    const rows = await stack.redisCli(['XRANGE', key, start, '+', 'COUNT', '2000']);
    for (const [id, flat] of rows) {
      const fields = {};
      for (let i = 0; i + 1 < flat.length; i += 2) {
        fields[flat[i]] = flat[i + 1];
      }
      out.push({ id, fields });
    }
    if (rows.length < 2000) {
      return out;
    }
    start = `(${rows[rows.length - 1][0]}`;
  }
  throw new Error(`stream ${key} is too long to read`);
}

/** The webhook and payment dead letters, from the admin API and the stream. */
export async function deadLetters(stack) {
  const res = await apiCall(stack, '/admin/dead_letters', { auth: 'admin' });
  if (res.status !== 200) {
    throw new Error(`GET /admin/dead_letters: HTTP ${res.status} ${res.body.slice(0, 200)}`);
  }
  const api = res.json.data;
  // The admin list stops at 100 entries and has no pagination yet: read the
  // stream itself for the rest.
  const stream = await readStream(stack, 'stream:deadletter');
  return { api, all: stream.map((e) => ({ id: e.id, ...e.fields })), apiCapped: api.length >= 100
    && stream.length > api.length };
}

/** Collects everything the checks read. Nodes and Redis must be up. */
export async function collectEvidence({ stack, load, log }) {
  const ev = {};
  log('reading the simulator (charge counts, settlement, charges)');
  ev.chargeCounts = await simGet(stack, '/admin/charge_counts');
  ev.settlement = (await simGet(stack, '/admin/settlement')).lines;
  ev.charges = (await simGet(stack, '/admin/charges')).charges;
  log('reading the ledger from Redis');
  const balances = await stack.redisCli(['HGETALL', 'ledger:balances']);
  ev.balances = Array.isArray(balances) ? Object.fromEntries(balances.reduce((acc, v, i, a) =>
    (i % 2 ? acc : [...acc, [v, a[i + 1]]]), [])) : balances;
  ev.transactions = await readStream(stack, 'ledger:transactions');
  log(`retrieving ${load.payments.filter((p) => p.session).length} checkout sessions`);
  ev.sessions = new Map();
  await mapLimit(load.payments.filter((p) => p.session), 16, async (p) => {
    const res = await apiCall(stack, `/v1/checkout/sessions/${p.session}`);
    ev.sessions.set(p.session, { code: res.status, doc: res.json });
  });
  ev.intents = new Map();
  // Every intent, paid ones too: a paid session's intent must say so.
  await mapLimit(load.payments.filter((p) => p.intent), 16, async (p) => {
    const res = await apiCall(stack, `/v1/payment_intents/${p.intent}`);
    ev.intents.set(p.intent, { code: res.status, doc: res.json });
  });
  log('replaying every acknowledged Idempotency-Key once more');
  ev.finalReplays = await load.replayEveryKey();
  log('listing sessions and events');
  ev.sessionList = await listAll(stack, '/v1/checkout/sessions');
  ev.events = await listAll(stack, '/v1/events');
  ev.deadLetters = await deadLetters(stack);
  if (load.cfg.refund_share > 0) {
    ev.refunds = await collectRefunds({ stack, load, log });
  }
  return ev;
}

/** What the refund checks read (invariants 6-8); the load's records get final_status. */
async function collectRefunds({ stack, load, log }) {
  const out = { objects: new Map(), intents: new Map(), charges: new Map(),
    networkRefund: new Map(), list: [], byKey: new Map(), finalReplays: 0, simStats: null };
  log(`replaying every answered refund key once more (${load.refunds.filter((r) => r.id)
    .length} of ${load.refunds.length} refunds)`);
  out.finalReplays = await load.replayRefundKeys();
  out.list = await listAll(stack, '/v1/refunds');
  for (const re of out.list) {
    const key = re.metadata?.experiment_key ?? '';
    out.byKey.set(key, [...(out.byKey.get(key) ?? []), re]);
  }
  // Every refund id any answer named, and every listed one.
  const ids = new Set(out.list.map((re) => re.id));
  for (const replies of load.refundReplies.values()) {
    for (const a of replies) {
      if (a.id) {
        ids.add(a.id);
      }
    }
  }
  log(`retrieving ${ids.size} refunds and their payments`);
  await mapLimit([...ids], 16, async (id) => {
    const res = await apiCall(stack, `/v1/refunds/${id}`);
    out.objects.set(id, { code: res.status, doc: res.json });
  });
  const intents = new Set([...load.refunds.map((r) => r.intent),
    ...out.list.map((re) => re.payment_intent).filter(Boolean)]);
  await mapLimit([...intents], 16, async (pi) => {
    const res = await apiCall(stack, `/v1/payment_intents/${pi}`);
    out.intents.set(pi, { code: res.status, doc: res.json });
    const charge = res.json?.latest_charge;
    if (res.status === 200 && charge) {
      const c = await apiCall(stack, `/v1/charges/${charge}`);
      out.charges.set(pi, { code: c.status, doc: c.json });
    }
  });
  // The network's id for each refund, where the refund is still a live hash
  // (an archived one is packed; those are compared per payment only).
  const refundIds = [...ids];
  for (let at = 0; at < refundIds.length; at += 500) {
    const part = refundIds.slice(at, at + 500);
    const got = await stack.redisCli(['EVAL', "local o = {} for i, k in ipairs(KEYS) do "
      + "o[i] = redis.call('HGET', k, 'network_refund') or '' end return o",
    String(part.length), ...part.map((id) => `re:${id}`)]);
    part.forEach((id, i) => {
      if (Array.isArray(got) && got[i]) {
        out.networkRefund.set(id, got[i]);
      }
    });
  }
  out.simStats = await simGet(stack, '/admin/stats');
  for (const r of load.refunds) {
    const found = refundOf(out, r);
    r.final_status = found?.status ?? null;
    r.final_id = found?.id ?? null;
  }
  return out;
}

/**
 * The refund object a logical refund ended with: the one its answers named
 * (as GET /v1/refunds/<id> shows it now), else the one listed under its key
 * (the client gave up, the PSP may have made it anyway); null if none.
 */
function refundOf(refunds, r) {
  const id = r.id ?? refunds.byKey.get(r.key)?.[0]?.id ?? null;
  if (!id) {
    return null;
  }
  const got = refunds.objects.get(id);
  return got?.code === 200 ? got.doc : null;
}

function result(name, title, checked, violations, notes = [], extra = {}) {
  return {
    name, title, pass: violations.length === 0, checked,
    violation_count: violations.length,
    violations: violations.slice(0, VIOLATIONS_KEPT),
    summary: violations.length === 0 ? `ok (${checked} checked)`
      : `${violations.length} violation${violations.length === 1 ? '' : 's'} `
        + `(${checked} checked)`,
    notes, ...extra,
  };
}

function isSucceeded(ev, p) {
  const s = ev.sessions.get(p.session)?.doc;
  return s?.payment_status === 'paid' && s?.status === 'complete';
}

/** 1. At most one capture per payment; exactly one per succeeded payment. */
function noDoubleCharge(ev, load) {
  const v = [];
  const ours = new Set();
  let checked = 0;
  for (const p of load.payments) {
    if (!p.intent) {
      continue;
    }
    ours.add(p.intent);
    checked++;
    const n = ev.chargeCounts[p.intent] ?? 0;
    if (n > 1) {
      const keys = ev.charges.filter((c) => c.reference === p.intent && c.status === 'succeeded')
        .map((c) => `${c.id} (key ${c.idempotency_key})`);
      v.push({ id: p.intent, what: `captured ${n} times: ${keys.join(', ')}` });
    } else if (n === 0 && isSucceeded(ev, p)) {
      v.push({ id: p.intent, what: 'succeeded at the PSP but never captured by the network' });
    }
  }
  for (const [ref, n] of Object.entries(ev.chargeCounts)) {
    if (!ours.has(ref)) {
      v.push({ id: ref, what: `${n} capture(s) for a reference no checkout of this run has` });
    }
  }
  const total = Object.values(ev.chargeCounts).reduce((a, b) => a + b, 0);
  return result('no_double_charge', 'No double charge', checked, v,
    [`${total} captures at the card network for ${Object.keys(ev.chargeCounts).length} payments`]);
}

/**
 * 2. Every submitted payment succeeded (or was declined). "Submitted": the
 * shopper posted a card for an acknowledged session (the PSP's answer to
 * that post does not matter: a wrong 404 or a timeout that made the shopper
 * give up loses the payment just the same). One left in the dead-letter
 * stream fails too, unless the experiment says its faults outlast the
 * network retries (`payment_dead_letters_ok`): the shipped experiments'
 * faults end long before, so a payment dead letter there is a regression
 * (the operator audit: it passed with a note).
 */
function noLostPayment(ev, load) {
  const v = [];
  const notes = [];
  const deadByIntent = new Map();
  for (const d of ev.deadLetters.all) {
    if (d.kind === 'payment' && d.intent) {
      deadByIntent.set(d.intent, d);
    }
  }
  let checked = 0;
  let deadLettered = 0;
  let notAccepted = 0;
  let wrongAnswers = 0;
  let abandoned = 0;
  let declinedOnly = 0;
  for (const p of load.payments) {
    if (!p.session) {
      notAccepted++;
      continue;
    }
    const s = ev.sessions.get(p.session);
    if (!s || s.code !== 200) {
      v.push({ id: p.session, what: `session acknowledged at ${p.t_created?.toFixed(1)}s `
        + `but GET answers HTTP ${s?.code}: lost` });
      continue;
    }
    if ((p.state_before_settle ?? p.state) === 'pay_failed' && isSucceeded(ev, p)) {
      wrongAnswers++; // told "failed", charged anyway: reported below
    }
    if (!p.attempts.length) {
      continue;
    }
    if (p.abandoned) {
      abandoned++; // left after a declined card: invariant 9's
      continue;
    }
    checked++;
    const pi = ev.intents.get(p.intent)?.doc;
    if (isSucceeded(ev, p)) {
      if (pi && pi.status !== 'succeeded') {
        v.push({ id: p.intent, what: `session ${p.session} is paid but its intent `
          + `is ${pi.status}: the two disagree` });
      }
      continue;
    }
    if (!p.attempts.some((a) => a.card === GOOD_CARD_LAST4)
        && pi && pi.status !== 'processing') {
      // Only the declining card was posted (its answer came late, so the
      // shopper never went on to the good one): nothing is owed, as long as
      // the decline was settled rather than left in flight.
      declinedOnly++;
      continue;
    }
    const dead = deadByIntent.get(p.intent);
    if (dead && dead.reason && load.cfg.payment_dead_letters_ok) {
      deadLettered++;
      continue;
    }
    v.push({ id: p.intent, what: `card posted at ${p.t_pay?.toFixed(1)}s; session ${p.session} `
      + `${dead ? `dead-lettered (${dead.reason ?? 'no reason'}), ` : ''}`
      + `is ${s.doc.status}/${s.doc.payment_status}, intent ${pi?.status ?? '?'}`
      + `${pi?.last_payment_error ? ` (${pi.last_payment_error.message})` : ''}; `
      + `shopper: ${p.state}${p.errors.length ? ` — ${p.errors[0].slice(0, 140)}` : ''}` });
  }
  if (notAccepted) {
    notes.push(`${notAccepted} checkout(s) never acknowledged by the API (not owed)`);
  }
  if (deadLettered) {
    notes.push(`${deadLettered} payment(s) dead-lettered with a reason`);
  }
  if (abandoned) {
    notes.push(`${abandoned} checkout(s) left after a declined card (abandoned: invariant 9)`);
  }
  if (declinedOnly) {
    notes.push(`${declinedOnly} checkout(s) whose only card was the declining one, its `
      + 'decline answered too late for the shopper to go on (not owed)');
  }
  if (wrongAnswers) {
    notes.push(`${wrongAnswers} payment(s) succeeded although the shopper's card post ended `
      + 'in an error answer (see payments.csv, state pay_failed)');
  }
  return result('no_lost_payment', 'No lost payment', checked, v, notes,
    { dead_lettered: deadLettered, succeeded_after_error_answer: wrongAnswers });
}

const RECEIVABLE = 'psp:card_network_receivable';

/** 3. The ledger balances overall and per payment, and matches the network. */
function ledgerBalanced(ev, load) {
  const v = [];
  const notes = [];
  // Balances sum to zero and equal the sums of the postings.
  let sum = 0n;
  for (const value of Object.values(ev.balances)) {
    sum += BigInt(value);
  }
  if (sum !== 0n) {
    v.push({ id: 'ledger:balances', what: `balances sum to ${sum}, not 0` });
  }
  const recomputed = new Map();
  const txByIntent = new Map();
  for (const tx of ev.transactions) {
    let postings;
    try {
      postings = JSON.parse(tx.fields.postings);
    } catch {
      v.push({ id: tx.fields.txn ?? tx.id, what: 'postings are not JSON' });
      continue;
    }
    let debits = 0n;
    let credits = 0n;
    let receivable = 0n;
    for (const [stored, debit, credit] of postings) {
      // An entry names its own merchant's accounts relative, ":pending:usd"
      // (actors/ledger_account_names.hpp); balances use full names.
      const account = stored.startsWith(':') ? `merchant:${tx.fields.merchant}${stored}` : stored;
      debits += BigInt(debit);
      credits += BigInt(credit);
      if (account === RECEIVABLE || account.startsWith(`${RECEIVABLE}:`)) {
        receivable += BigInt(debit) - BigInt(credit);
      }
      recomputed.set(account, (recomputed.get(account) ?? 0n) + BigInt(debit) - BigInt(credit));
    }
    if (debits !== credits) {
      v.push({ id: tx.fields.txn ?? tx.id, what: `debits ${debits} != credits ${credits}` });
    }
    const list = txByIntent.get(tx.fields.intent) ?? [];
    list.push({ txn: tx.fields.txn, op: tx.fields.op, receivable });
    txByIntent.set(tx.fields.intent, list);
  }
  for (const [account, value] of recomputed) {
    if (BigInt(ev.balances[account] ?? 0) !== value) {
      v.push({ id: account, what: `balance ${ev.balances[account]} but postings sum to ${value}` });
    }
  }
  for (const account of Object.keys(ev.balances)) {
    if (!recomputed.has(account) && BigInt(ev.balances[account]) !== 0n) {
      v.push({ id: account, what: `balance ${ev.balances[account]} without any posting` });
    }
  }
  // Per payment: one payment transaction per succeeded payment, none
  // otherwise, one refund transaction per succeeded refund, and the net
  // amount the network captured less what it refunded.
  const captured = new Map();
  const refundedAt = new Map();
  let captureTotal = 0n;
  let networkRefundTotal = 0n;
  for (const line of ev.settlement) {
    if (line.type === 'capture') {
      captured.set(line.reference, (captured.get(line.reference) ?? 0n) + BigInt(line.amount));
      captureTotal += BigInt(line.amount);
    } else if (line.type === 'refund') {
      refundedAt.set(line.reference,
        (refundedAt.get(line.reference) ?? 0n) + BigInt(line.amount));
      networkRefundTotal += BigInt(line.amount);
    }
  }
  // The refund transaction each succeeded refund must have: txn_<its id's suffix>.
  const refundTxnOf = new Map();
  for (const [id, got] of ev.refunds?.objects ?? []) {
    if (got.code === 200 && got.doc?.status === 'succeeded') {
      refundTxnOf.set(`txn_${id.slice(id.lastIndexOf('_') + 1)}`,
        { id, amount: BigInt(got.doc.amount), intent: got.doc.payment_intent });
    }
  }
  const ours = new Set();
  let checked = 0;
  let ledgerTotal = 0n;
  let refundTxns = 0;
  const refundTxnSeen = new Map();
  for (const p of load.payments) {
    if (!p.intent) {
      continue;
    }
    ours.add(p.intent);
    checked++;
    const txs = txByIntent.get(p.intent) ?? [];
    const sales = txs.filter((t) => t.op !== 'refund');
    const refunds = txs.filter((t) => t.op === 'refund');
    const ok = isSucceeded(ev, p);
    if (ok && sales.length !== 1) {
      v.push({ id: p.intent, what: `succeeded with ${sales.length} payment ledger transactions` });
    } else if (!ok && txs.length) {
      v.push({ id: p.intent, what: `not succeeded but has ${txs.length} ledger transaction(s)` });
    }
    const saleBooked = sales.reduce((a, t) => a + t.receivable, 0n);
    const booked = txs.reduce((a, t) => a + t.receivable, 0n);
    ledgerTotal += booked;
    if (sales.length && saleBooked !== BigInt(p.amount)) {
      v.push({ id: p.intent, what: `ledger books ${saleBooked}, the checkout asked ${p.amount}` });
    }
    for (const t of refunds) {
      refundTxns++;
      refundTxnSeen.set(t.txn, (refundTxnSeen.get(t.txn) ?? 0) + 1);
      const want = refundTxnOf.get(t.txn);
      if (!want) {
        v.push({ id: t.txn, what: `refund transaction on ${p.intent} (${-t.receivable}) for no `
          + 'succeeded refund' });
      } else if (want.intent !== p.intent || -t.receivable !== want.amount) {
        v.push({ id: t.txn, what: `refund transaction books ${-t.receivable} on ${p.intent}, `
          + `refund ${want.id} is ${want.amount} on ${want.intent}` });
      }
    }
    const cap = captured.get(p.intent) ?? 0n;
    const ref = refundedAt.get(p.intent) ?? 0n;
    if (booked !== cap - ref) {
      v.push({ id: p.intent, what: `ledger books ${booked}`
        + `${refunds.length ? ` (payment ${saleBooked}, refunds ${booked - saleBooked})` : ''}, `
        + `the card network captured ${cap}${ref ? ` and refunded ${ref}` : ''}` });
    }
  }
  for (const [txn, want] of refundTxnOf) {
    const n = refundTxnSeen.get(txn) ?? 0;
    if (n !== 1 && ours.has(want.intent)) {
      v.push({ id: want.id, what: `succeeded refund of ${want.amount} has ${n} ledger `
        + `transactions (${txn})` });
    }
  }
  for (const intent of txByIntent.keys()) {
    if (!ours.has(intent)) {
      v.push({ id: intent, what: 'ledger transaction for a payment this run never made' });
    }
  }
  notes.push(`${ev.transactions.length} ledger transactions${refundTxns ? ` (${refundTxns} `
    + 'of them refunds)' : ''}; booked ${ledgerTotal} vs captured ${captureTotal}`
    + `${networkRefundTotal ? ` less refunded ${networkRefundTotal}` : ''} (minor units); `
    + `balances sum to ${sum}`);
  return result('ledger_balanced', 'Ledger balances and matches the network', checked, v, notes);
}

/** 4. Every event reached the receiver (after replaying dead letters). */
function webhooksDelivered(ev, load, receiver, replay) {
  const v = [];
  const notes = [];
  const deadEvents = new Set(replay.webhookEvents);
  const listed = new Set();
  for (const e of ev.events) {
    listed.add(e.id);
    if (receiver.events.has(e.id)) {
      continue;
    }
    v.push({ id: e.id, what: deadEvents.has(e.id)
      ? `${e.type}: dead-lettered, and the replay did not deliver it`
      : `${e.type}: never delivered and not dead-lettered` });
  }
  for (const [id, rec] of receiver.events) {
    if (!listed.has(id)) {
      v.push({ id, what: `${rec.type}: delivered but not listed by GET /v1/events` });
    }
  }
  // Each succeeded payment has its two events.
  const byObject = new Map();
  for (const e of ev.events) {
    const obj = e.data?.object?.id;
    byObject.set(`${e.type}|${obj}`, e.id);
  }
  for (const p of load.payments) {
    if (p.intent && isSucceeded(ev, p)) {
      for (const [type, obj] of [['payment_intent.succeeded', p.intent],
        ['checkout.session.completed', p.session]]) {
        if (!byObject.has(`${type}|${obj}`)) {
          v.push({ id: obj, what: `succeeded but no ${type} event exists` });
        }
      }
    }
  }
  // Each succeeded refund has its three: created, updated, and one
  // charge.refunded of its charge per refund (an event erased before
  // delivery is in no list, so only an expectation catches it).
  const eventCount = new Map();
  for (const e of ev.events) {
    const key = `${e.type}|${e.data?.object?.id}`;
    eventCount.set(key, (eventCount.get(key) ?? 0) + 1);
  }
  const refundedWanted = new Map();
  let refundsChecked = 0;
  for (const [id, got] of ev.refunds?.objects ?? []) {
    if (got.code !== 200 || got.doc?.status !== 'succeeded') {
      continue;
    }
    refundsChecked++;
    for (const type of ['refund.created', 'refund.updated']) {
      if (!eventCount.has(`${type}|${id}`)) {
        v.push({ id, what: `succeeded refund but no ${type} event exists` });
      }
    }
    const key = `charge.refunded|${got.doc.charge}`;
    refundedWanted.set(key, (refundedWanted.get(key) ?? 0) + 1);
  }
  for (const [key, want] of refundedWanted) {
    const have = eventCount.get(key) ?? 0;
    if (have !== want) {
      v.push({ id: key.slice(key.indexOf('|') + 1), what: `${want} succeeded refund(s) `
        + `but ${have} charge.refunded event(s)` });
    }
  }
  if (refundsChecked) {
    notes.push(`${refundsChecked} succeeded refund(s) checked for refund.created, `
      + 'refund.updated and one charge.refunded each');
  }
  for (const bad of receiver.badSignatures) {
    v.push({ id: bad.event ?? `delivery at ${bad.t.toFixed(1)}s`, what: `rejected: ${bad.error}` });
  }
  notes.push(`${ev.events.length} events listed; ${receiver.events.size} distinct received in `
    + `${receiver.deliveries} deliveries (${receiver.duplicates} duplicate deliveries, `
    + `${receiver.refused} refused on purpose)`);
  notes.push(`${replay.webhookEvents.length} webhook dead letter(s) replayed `
    + `(${replay.webhookEvents.filter((id) => receiver.events.has(id)).length} then delivered)`);
  return result('webhooks_delivered', 'Every event delivered (or dead-lettered and replayed)',
    ev.events.length, v, notes);
}

/** The object id in an answer body, or its first 80 characters. */
function bodyId(body) {
  const m = /"id":\s*"([^"]+)"/.exec(body);
  return m ? m[1] : JSON.stringify(body.slice(0, 80));
}

/** 5. Replays of one Idempotency-Key / nonce answered identically. */
function idempotentReplays(ev, load) {
  const v = [];
  let checked = 0;
  let replays = 0;
  for (const [key, replies] of load.apiReplies) {
    const stored = replies.filter((r) => (r.status >= 200 && r.status < 300) || r.replayed
      || r.final);
    if (!stored.length) {
      continue;
    }
    checked++;
    replays += stored.filter((r) => r.replayed).length;
    const first = stored[0];
    for (const r of stored.slice(1)) {
      if (r.status !== first.status || r.body !== first.body) {
        v.push({ id: key, what: `${r.final ? 'final replay' : 'answer'} at ${r.t.toFixed(2)}s `
          + `from node-${r.node} (HTTP ${r.status}${r.replayed ? ', replayed' : ''}) differs `
          + `from the first (HTTP ${first.status}): ${bodyId(r.body)} vs ${bodyId(first.body)}` });
        break;
      }
    }
  }
  // One session per key, whatever the client saw.
  const byKey = new Map();
  for (const s of ev.sessionList) {
    const key = s.metadata?.experiment_key;
    if (key) {
      byKey.set(key, [...(byKey.get(key) ?? []), s.id]);
    }
  }
  for (const [key, ids] of byKey) {
    if (ids.length > 1) {
      v.push({ id: key, what: `${ids.length} sessions for one Idempotency-Key: ${ids.join(', ')}` });
    }
  }
  let nonces = 0;
  for (const [nonce, replies] of load.payReplies) {
    const acked = replies.filter((r) => r.status === 303);
    if (acked.length > 1) {
      nonces++;
      if (new Set(acked.map((r) => r.location)).size > 1) {
        v.push({ id: `nonce ${nonce}`, what: `hosted page answered different redirects: `
          + `${[...new Set(acked.map((r) => r.location))].join(', ')}` });
      }
    }
  }
  return result('idempotent_replays', 'Idempotent replays answered identically', checked, v,
    [`${replays} replayed API answers compared (${ev.finalReplays} of them a final replay `
      + `of every key after the run); ${nonces} double-submitted card forms; `
      + `${ev.sessionList.length} sessions listed for ${load.apiReplies.size} keys`]);
}

// ---- refunds (only with refund_share > 0) ----------------------------------------

const isOk = (a) => a.status >= 200 && a.status < 300;

/** The load's refunds per payment intent. */
function refundsByIntent(load) {
  const out = new Map();
  for (const r of load.refunds) {
    out.set(r.intent, [...(out.get(r.intent) ?? []), r]);
  }
  return out;
}

/**
 * 6. Every refund the API answered 200 for exists, is final, and is the only
 * refund of its Idempotency-Key; no refund exists that nobody asked for.
 */
function refundsRecorded(ev, load) {
  const R = ev.refunds;
  const v = [];
  const notes = [];
  let checked = 0;
  let compared = 0;
  let failed = 0;
  const gaveUp = [];
  const ourKeys = new Set(load.refunds.map((r) => r.key));
  for (const r of load.refunds) {
    checked++;
    const replies = load.refundReplies.get(r.key) ?? [];
    const ok = replies.filter(isOk);
    const ids = [...new Set(ok.map((a) => a.id))];
    const listed = R.byKey.get(r.key) ?? [];
    if (r.state === 'waiting' || r.state === 'sending' || r.state === 'error') {
      v.push({ id: r.key, what: `refund never finished on the client (${r.state}`
        + `${r.errors.length ? `: ${r.errors[0].slice(0, 140)}` : ''})` });
      continue;
    }
    if (ids.length > 1) {
      v.push({ id: r.key, what: `the answers for one Idempotency-Key named ${ids.length} `
        + `refunds: ${ids.join(', ')}` });
    }
    if (listed.length > 1) {
      v.push({ id: r.key, what: `${listed.length} refunds exist for one Idempotency-Key: `
        + `${listed.map((re) => `${re.id} (${re.amount}, ${re.status})`).join(', ')}` });
    }
    const first = ok[0];
    for (const a of replies.filter((x) => x.replayed && x !== first)) {
      compared++;
      if (!first || a.status !== first.status || a.body !== first.body) {
        v.push({ id: r.key, what: `${a.final ? 'final replay' : 'replayed answer'} at `
          + `${a.t.toFixed(2)}s from node-${a.node} (HTTP ${a.status}, ${a.id ?? a.error}) differs `
          + `from the first answer (${first ? `HTTP ${first.status}, ${first.id}` : 'none'})` });
        break;
      }
    }
    if (r.state === 'refused') {
      v.push({ id: r.intent, what: `refund of ${r.amount} (of ${r.paid} paid) refused: `
        + `HTTP ${r.http} ${(replies.at(-1)?.error ?? '').slice(0, 120)}` });
    }
    if (!first) {
      if (r.state === 'gave_up') {
        gaveUp.push(listed.length ? `${r.key} (made anyway: ${listed[0].id} ${listed[0].status})`
          : r.key);
      }
      continue;
    }
    const id = first.id;
    const got = R.objects.get(id);
    if (!got || got.code !== 200) {
      v.push({ id, what: `answered 200 at ${first.t.toFixed(2)}s (key ${r.key}) but GET `
        + `/v1/refunds/${id} answers HTTP ${got?.code}: lost` });
      continue;
    }
    const d = got.doc;
    if (d.status === 'failed') {
      failed++;
      if (!d.failure_reason) {
        v.push({ id, what: 'failed without a failure_reason' });
      }
    } else if (d.status !== 'succeeded') {
      v.push({ id, what: `still ${d.status} after the system settled` });
    }
    if (d.amount !== r.amount || d.payment_intent !== r.intent) {
      v.push({ id, what: `is ${d.amount} on ${d.payment_intent}; asked ${r.amount} on `
        + `${r.intent}` });
    }
    if (!listed.some((re) => re.id === id)) {
      v.push({ id, what: `not listed by GET /v1/refunds under its key ${r.key}` });
    }
  }
  for (const re of R.list) {
    const key = re.metadata?.experiment_key;
    if (!key || !ourKeys.has(key)) {
      v.push({ id: re.id, what: `a refund of ${re.amount} on ${re.payment_intent} (${re.status}) `
        + 'that no refund request of this run asked for' });
    }
  }
  const answered = load.refunds.filter((r) => r.id).length;
  notes.push(`${load.refunds.length} refunds asked, ${answered} answered 200 `
    + `(${failed} failed at the network), ${R.list.length} listed; ${compared} replayed answers `
    + `compared (${R.finalReplays} final replays of every answered key)`);
  if (gaveUp.length) {
    notes.push(`${gaveUp.length} refund(s) without a 200 answer (the client gave up): `
      + `${gaveUp.slice(0, 5).join(', ')}`);
  }
  return result('refunds_recorded', 'Every refund answered 200 exists, once per key', checked,
    v, notes);
}

/** 7. Each refunded charge's amount_refunded is the sum of its succeeded refunds. */
function refundsMatchCharges(ev, load) {
  const R = ev.refunds;
  const v = [];
  let checked = 0;
  let total = 0;
  const paidOf = new Map(load.payments.map((p) => [p.intent, p.amount]));
  for (const [intent, rs] of refundsByIntent(load)) {
    checked++;
    let expected = 0;
    for (const r of rs) {
      const d = refundOf(R, r);
      if (d?.status === 'succeeded') {
        expected += d.amount;
      }
    }
    total += expected;
    const pi = R.intents.get(intent);
    const ch = R.charges.get(intent);
    if (!pi || pi.code !== 200) {
      v.push({ id: intent, what: `GET /v1/payment_intents answers HTTP ${pi?.code}` });
      continue;
    }
    if (!ch || ch.code !== 200) {
      v.push({ id: intent, what: `charge ${pi.doc.latest_charge}: GET /v1/charges answers `
        + `HTTP ${ch?.code}` });
      continue;
    }
    const c = ch.doc;
    if (pi.doc.amount_received !== paidOf.get(intent)) {
      v.push({ id: intent, what: `amount_received ${pi.doc.amount_received}, paid `
        + `${paidOf.get(intent)}` });
    }
    if (c.amount_refunded !== expected) {
      v.push({ id: c.id, what: `amount_refunded ${c.amount_refunded}, its succeeded refunds `
        + `sum to ${expected} (${rs.map((r) => `${r.final_id ?? r.key}: ${r.amount} `
          + `${r.final_status ?? r.state}`).join(', ')})` });
    }
    if (c.amount_refunded > c.amount_captured || c.amount_refunded > pi.doc.amount_received) {
      v.push({ id: c.id, what: `amount_refunded ${c.amount_refunded} exceeds amount_captured `
        + `${c.amount_captured} / amount_received ${pi.doc.amount_received}` });
    }
  }
  return result('refunds_match_charges', 'Refunded amounts match the charges', checked, v,
    [`${checked} refunded charges; succeeded refunds sum to ${total} (minor units)`]);
}

/** 8. Each succeeded refund was executed exactly once at the card network, a failed one never. */
function refundsOnceAtNetwork(ev, load) {
  const R = ev.refunds;
  const v = [];
  let checked = 0;
  let byId = 0;
  const lines = new Map();
  let lineCount = 0;
  let lineTotal = 0;
  for (const l of ev.settlement) {
    if (l.type === 'refund') {
      lines.set(l.reference, [...(lines.get(l.reference) ?? []), l]);
      lineCount++;
      lineTotal += l.amount;
    }
  }
  const simCharges = new Map(ev.charges.map((c) => [c.id, c]));
  const byIntent = refundsByIntent(load);
  const networkIdUsedBy = new Map();
  for (const [intent, rs] of byIntent) {
    const at = lines.get(intent) ?? [];
    const succeeded = [];
    for (const r of rs) {
      const d = refundOf(R, r);
      checked++;
      if (d?.status === 'succeeded') {
        succeeded.push(d);
      }
    }
    const amounts = (xs) => xs.map((x) => x.amount).sort((a, b) => a - b).join(',');
    if (at.length !== succeeded.length || amounts(at) !== amounts(succeeded)) {
      v.push({ id: intent, what: `the network executed ${at.length} refund(s) `
        + `[${at.map((l) => `${l.id} ${l.amount}`).join(', ')}] for ${succeeded.length} `
        + `succeeded refund(s) [${succeeded.map((d) => `${d.id} ${d.amount}`).join(', ')}]` });
    }
    for (const d of succeeded) {
      const nid = R.networkRefund.get(d.id);
      if (!nid) {
        continue; // archived: compared per payment above
      }
      byId++;
      const line = at.find((l) => l.id === nid);
      if (!line || line.amount !== d.amount) {
        v.push({ id: d.id, what: `names network refund ${nid}, which the network's settlement `
          + `${line ? `has at ${line.amount}, not ${d.amount}` : `does not list for ${intent}`}` });
      }
      if (networkIdUsedBy.has(nid)) {
        v.push({ id: d.id, what: `names network refund ${nid}, as ${networkIdUsedBy.get(nid)} `
          + 'does' });
      }
      networkIdUsedBy.set(nid, d.id);
    }
    const charge = R.intents.get(intent)?.doc?.latest_charge;
    const sc = charge ? simCharges.get(charge) : null;
    const atSum = at.reduce((a, l) => a + l.amount, 0);
    if (charge && (!sc || sc.amount_refunded !== atSum)) {
      v.push({ id: charge, what: sc ? `the network's charge says amount_refunded `
        + `${sc.amount_refunded}, its refund lines sum to ${atSum}`
        : 'the network does not list this charge' });
    }
  }
  for (const [ref, ls] of lines) {
    if (!byIntent.has(ref)) {
      v.push({ id: ref, what: `the network executed ${ls.length} refund(s) `
        + `(${ls.map((l) => l.amount).join(', ')}) for a payment no refund was asked for` });
    }
  }
  return result('refunds_once_at_network', 'Each refund executed once at the card network',
    checked, v, [`${lineCount} refunds at the card network summing to ${lineTotal} `
      + `(simulator stats: ${R.simStats?.refunds ?? '?'} refunds); ${byId} matched by the `
      + 'network refund id the PSP recorded (live refunds), the others per payment'],
  );
}

/**
 * 9. Every abandoned checkout was expired by the PSP once its time ran out:
 * the session expired and unpaid, its intent canceled as abandoned, exactly
 * one checkout.session.expired (named after the session) that the store
 * received, nothing captured; and no other session got one.
 */
function abandonedSessionsExpired(ev, load, receiver) {
  const v = [];
  const expiredEvents = new Map();
  for (const e of ev.events) {
    if (e.type === 'checkout.session.expired') {
      const id = e.data?.object?.id;
      expiredEvents.set(id, [...(expiredEvents.get(id) ?? []), e.id]);
    }
  }
  let checked = 0;
  let afterDecline = 0;
  for (const p of load.payments) {
    if (!p.session) {
      continue;
    }
    const events = expiredEvents.get(p.session) ?? [];
    if (!p.abandoned) {
      if (events.length) {
        v.push({ id: p.session, what: `not abandoned, yet ${events.join(', ')} expired it` });
      }
      continue;
    }
    checked++;
    afterDecline += p.attempts.length ? 1 : 0;
    const s = ev.sessions.get(p.session)?.doc;
    if (s?.status !== 'expired' || s?.payment_status !== 'unpaid') {
      v.push({ id: p.session, what: `abandoned at ${p.t_abandoned?.toFixed(1)}s, but the `
        + `session is ${s?.status}/${s?.payment_status}` });
    }
    const pi = ev.intents.get(p.intent)?.doc;
    if (pi?.status !== 'canceled' || pi?.cancellation_reason !== 'abandoned') {
      v.push({ id: p.intent, what: `abandoned, but its intent is ${pi?.status} `
        + `(${pi?.cancellation_reason ?? 'no reason'})` });
    }
    const want = `evt_${p.session.slice(p.session.lastIndexOf('_') + 1)}E`;
    if (events.length !== 1 || events[0] !== want) {
      v.push({ id: p.session, what: `checkout.session.expired events: `
        + `[${events.join(', ')}], want exactly [${want}]` });
    } else if (!receiver.events.has(want)) {
      v.push({ id: p.session, what: `${want} was never received by the store` });
    }
    if ((ev.chargeCounts[p.intent] ?? 0) !== 0) {
      v.push({ id: p.intent, what: `abandoned, yet captured ${ev.chargeCounts[p.intent]} time(s)` });
    }
  }
  return result('abandoned_sessions_expired', 'Abandoned checkouts expired once, with their event',
    checked, v, [`${checked} abandoned checkout(s) (${afterDecline} after a declined card); `
      + `${[...expiredEvents.values()].flat().length} checkout.session.expired event(s) listed`]);
}

export function checkInvariants(ev, { load, receiver, replay }) {
  const out = [
    noDoubleCharge(ev, load),
    noLostPayment(ev, load),
    ledgerBalanced(ev, load),
    webhooksDelivered(ev, load, receiver, replay),
    idempotentReplays(ev, load),
  ];
  if (ev.refunds) {
    out.push(refundsRecorded(ev, load), refundsMatchCharges(ev, load),
      refundsOnceAtNetwork(ev, load));
  }
  if (load.cfg.abandon_share > 0) {
    out.push(abandonedSessionsExpired(ev, load, receiver));
  }
  return out;
}

/** How long a node may take to notice it is cut off (its links end at once). */
const CUT_NOTICE_S = 1.5;

/**
 * 10. A node cut off from every peer takes no payment work while cut: from
 * its node log's quorum changes (`events`, on the run's clock) against the
 * partition windows of the fault `timeline`. Only with 3 nodes or more
 * (with 2, the tie rule lets the smaller id work on, by design).
 */
export function cutNodesStopWork(timeline, events) {
  const v = [];
  const windows = [];
  const open = new Map();
  for (const r of timeline) {
    if (!r.ok) {
      continue;
    }
    if (r.kind === 'partition') {
      open.set(r.node, r.t);
    } else if (r.kind === 'heal_partition' && open.has(r.node)) {
      windows.push({ node: r.node, from: open.get(r.node), to: r.t });
      open.delete(r.node);
    }
  }
  for (const [node, from] of open) {
    windows.push({ node, from, to: Infinity }); // cut until the run stopped
  }
  const working = (e) => e.event === 'quorum_reached' || e.event === 'quorum_regained';
  for (const w of windows) {
    const id = `node-${w.node}`;
    const mine = events.filter((e) => e.node === id);
    const judged = w.from + CUT_NOTICE_S;
    if (w.to <= judged) {
      continue; // healed before it had to notice
    }
    const before = mine.filter((e) => e.t <= judged).pop();
    const span = `${w.from.toFixed(1)}–${Number.isFinite(w.to) ? w.to.toFixed(1) : 'end'}s`;
    if (before && working(before)) {
      v.push({ id, what: `cut off ${span}, still held the quorum ${CUT_NOTICE_S}s in `
        + `(last: ${before.event} at ${before.t}s, ${before.reachable}/${before.registered})` });
    }
    for (const e of mine) {
      if (e.t > judged && e.t < w.to && working(e)) {
        v.push({ id, what: `${e.event} at ${e.t}s (${e.reachable}/${e.registered}) while `
          + `cut off ${span}` });
      }
    }
  }
  return result('cut_nodes_stop_work', 'A node cut off from its peers takes no payment work',
    windows.length, v, [`${windows.length} partition window(s), ${events.length} quorum `
      + 'change(s) read from the node logs']);
}

/** Replays dead letters of the given kinds through the admin API. */
export async function replayDeadLetters(stack, kinds, log) {
  const { all } = await deadLetters(stack);
  const out = { found: all.length, webhookEvents: [], payments: [], results: [] };
  for (const d of all) {
    if (!kinds.includes(d.kind)) {
      continue;
    }
    const res = await apiCall(stack, `/admin/dead_letters/${d.id}/replay`,
      { method: 'POST', auth: 'admin', body: '' });
    out.results.push({ id: d.id, kind: d.kind, ref: d.ref, reason: d.reason,
      status: res.status, result: res.json?.result ?? null });
    if (d.kind === 'webhook') {
      out.webhookEvents.push(d.ref.split(':')[0]);
    } else {
      out.payments.push(d.intent ?? d.ref);
    }
  }
  if (out.results.length) {
    log(`replayed ${out.results.length} dead letter(s)`);
  }
  return out;
}

/** Prometheus text -> {name: number} for the psp_* gauges we plot. */
export function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^(psp_[a-z_]+)\s+(-?[0-9.e+]+)$/.exec(line.trim());
    if (m) {
      out[m[1]] = Number(m[2]);
    }
  }
  return out;
}

/** /metrics from the first live node that answers (null if none). */
export async function scrapeMetrics(stack, timeoutMs = 1500) {
  for (const node of stack.liveNodes()) {
    try {
      const res = await request(stack.nodeUrl(node), '/metrics', { timeoutMs });
      if (res.status === 200) {
        return parseMetrics(res.body);
      }
    } catch {
      // next node
    }
  }
  return null;
}
