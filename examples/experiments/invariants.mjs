// Reads what the system ended up with (simulator, Redis, the public and
// admin APIs) and checks the five invariants. Each check returns
// {name, title, pass, checked, summary, violations: [{id, what}], notes}.
// The checker reports what it finds; it never repairs or retries a payment.

import { request, requestJson, sleep } from './http.mjs';

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
  const unpaid = load.payments.filter((p) => p.intent
    && ev.sessions.get(p.session)?.doc?.payment_status !== 'paid');
  await mapLimit(unpaid, 16, async (p) => {
    const res = await apiCall(stack, `/v1/payment_intents/${p.intent}`);
    ev.intents.set(p.intent, { code: res.status, doc: res.json });
  });
  log('replaying every acknowledged Idempotency-Key once more');
  ev.finalReplays = await load.replayEveryKey();
  log('listing sessions and events');
  ev.sessionList = await listAll(stack, '/v1/checkout/sessions');
  ev.events = await listAll(stack, '/v1/events');
  ev.deadLetters = await deadLetters(stack);
  return ev;
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
 * 2. Every submitted payment succeeded, or is dead-lettered with a reason.
 * "Submitted": the shopper posted a card for an acknowledged session (the
 * PSP's answer to that post does not matter: a wrong 404 or a timeout that
 * made the shopper give up loses the payment just the same).
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
    checked++;
    if (isSucceeded(ev, p)) {
      continue;
    }
    const dead = deadByIntent.get(p.intent);
    if (dead && dead.reason) {
      deadLettered++;
      continue;
    }
    const pi = ev.intents.get(p.intent)?.doc;
    v.push({ id: p.intent, what: `card posted at ${p.t_pay?.toFixed(1)}s; session ${p.session} `
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
    for (const [account, debit, credit] of postings) {
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
    list.push({ txn: tx.fields.txn, receivable });
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
  // Per payment: one transaction per succeeded payment, none otherwise, and
  // the amount the network captured.
  const captured = new Map();
  let captureTotal = 0n;
  for (const line of ev.settlement) {
    if (line.type === 'capture') {
      captured.set(line.reference, (captured.get(line.reference) ?? 0n) + BigInt(line.amount));
      captureTotal += BigInt(line.amount);
    }
  }
  const ours = new Set();
  let checked = 0;
  let ledgerTotal = 0n;
  for (const p of load.payments) {
    if (!p.intent) {
      continue;
    }
    ours.add(p.intent);
    checked++;
    const txs = txByIntent.get(p.intent) ?? [];
    const ok = isSucceeded(ev, p);
    if (ok && txs.length !== 1) {
      v.push({ id: p.intent, what: `succeeded with ${txs.length} ledger transactions` });
    } else if (!ok && txs.length) {
      v.push({ id: p.intent, what: `not succeeded but has ${txs.length} ledger transaction(s)` });
    }
    const booked = txs.reduce((a, t) => a + t.receivable, 0n);
    ledgerTotal += booked;
    const net = captured.get(p.intent) ?? 0n;
    if (txs.length && booked !== BigInt(p.amount)) {
      v.push({ id: p.intent, what: `ledger books ${booked}, the checkout asked ${p.amount}` });
    }
    if (booked !== net) {
      v.push({ id: p.intent, what: `ledger books ${booked}, the card network captured ${net}` });
    }
  }
  for (const intent of txByIntent.keys()) {
    if (!ours.has(intent)) {
      v.push({ id: intent, what: 'ledger transaction for a payment this run never made' });
    }
  }
  notes.push(`${ev.transactions.length} ledger transactions; booked ${ledgerTotal} `
    + `vs captured ${captureTotal} (minor units); balances sum to ${sum}`);
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

export function checkInvariants(ev, { load, receiver, replay }) {
  return [
    noDoubleCharge(ev, load),
    noLostPayment(ev, load),
    ledgerBalanced(ev, load),
    webhooksDelivered(ev, load, receiver, replay),
    idempotentReplays(ev, load),
  ];
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
