// The shoppers: N checkouts at concurrency C (optionally paced to a rate),
// round-robin over the live nodes like a health-checking load balancer.
// Each checkout: POST /v1/checkout/sessions (Idempotency-Key), POST
// /pay/<cs> through the hosted page (client-chosen nonce), then polls
// /pay/<cs>/status.json until "complete". A request without an answer or
// with a 5xx (or 409 idempotency_key_in_use) is retried with the SAME key /
// SAME nonce, bounded in count and time. Every API answer is recorded per
// Idempotency-Key, every hosted-page answer per nonce (invariant 5); some
// requests are deliberately sent twice.
// With refund_share > 0, a paid checkout is then partly refunded (POST
// /v1/refunds with its own Idempotency-Key, retried and duplicated the same
// way) while the load and the faults go on; every refund answer is recorded
// per key (invariants 6-8).
// With abandon_share > 0, some shoppers leave a checkout unpaid (after a
// declined card, when the decline was drawn too): its 30 minutes or more are
// made to run out at once (its expires_at and its entry in the sweep's set
// moved into the past, in Redis: the only way a run of seconds gets there),
// and the PSP's sweep must expire it once, with its event (invariant 9).

import { randomBytes } from 'node:crypto';
import { form, request, sleep } from './http.mjs';

const GOOD_CARD = '4242424242424242';
const DECLINE_CARD = '4000000000000002';
/** What an attempt records of the card that pays (attempt.card). */
export const GOOD_CARD_LAST4 = GOOD_CARD.slice(-4);
const RETRIES_MAX = 200; // per request, on top of the time deadline
const REFUND_PART = 0.4; // a refund asks for 40 % of the amount (rounded, at least 1)

/** Small seeded PRNG (mulberry32) so a run's choices can be repeated. */
export function makeRng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The refund draws of checkout i: their own PRNG, seeded from the run's seed
 * and i, so which checkouts are refunded does not depend on timing and the
 * other draws are the same as without refunds.
 */
function refundRng(seed, i) {
  return makeRng((Math.imul((seed >>> 0) + 0x5EF, 0x2545F491)
    ^ Math.imul(i + 1, 0x9E3779B1)) >>> 0);
}

/** The abandon draw of checkout i: its own PRNG, like refundRng. */
function abandonRng(seed, i) {
  return makeRng((Math.imul((seed >>> 0) + 0xAB4, 0x2C1B3C6D)
    ^ Math.imul(i + 1, 0x85EBCA77)) >>> 0);
}

function backoffMs(n) {
  const base = Math.min(1000, 50 * 2 ** Math.min(n, 10));
  return base / 2 + Math.random() * base / 2;
}

/**
 * How the answer to a keyed API write is taken: done, retried with the same
 * key (no answer, 5xx, 409 while the first is running), or failed.
 */
function judgeKeyedWrite(res) {
  if (res.status >= 200 && res.status < 300) {
    return 'done';
  }
  if (res.status >= 500 && res.headers['idempotent-replayed'] === 'true') {
    return 'fail'; // a stored failure: the same key will only replay it
  }
  return res.status >= 500 || res.status === 409 ? 'retry' : 'fail';
}

/** The same request sent twice at once; the answer of one that succeeded. */
async function twiceAtOnce(send) {
  const both = await Promise.allSettled([send(), send()]);
  const ok = both.find((x) => x.status === 'fulfilled');
  if (!ok) {
    throw both[0].reason;
  }
  return ok.value;
}

class GiveUp extends Error {}

/** An answer body in a few words: an HTML page's title, else its start. */
function brief(body) {
  const title = /<title>([^<]{0,120})<\/title>/i.exec(body);
  if (title) {
    return `page "${title[1].trim()}"`;
  }
  return body.slice(0, 160);
}

export class Load {
  constructor({ cfg, stack, clock, runId }) {
    this.cfg = cfg;
    this.stack = stack;
    this.clock = clock; // seconds since the load started
    this.runId = runId;
    this.rng = makeRng(cfg.seed ?? 1);
    this.payments = [];           // one record per started checkout
    this.apiReplies = new Map();  // Idempotency-Key -> [{status, body, replayed, node, t}]
    this.payReplies = new Map();  // nonce -> [{status, location, node, t}]
    this.refunds = [];            // one record per logical refund
    this.refundReplies = new Map(); // refund Idempotency-Key -> [{status, id, ...}]
    this.refundTasks = new Set(); // refunds in progress (awaited by run())
    this.counts = { requests: 0, retries: 0, no_answer: 0, status_5xx: 0, status_409: 0,
      duplicates_sent: 0, refund_duplicates_sent: 0 };
    this.rr = 0;
    this.next = 0;
    this.stopAt = Infinity;
    this.checkoutsDoneAt = null; // the last checkout finished (refunds may go on)
    this.done = false;
  }

  /** Progress figures for the live line. */
  progress() {
    let created = 0;
    let submitted = 0;
    let complete = 0;
    for (const p of this.payments) {
      created += p.session ? 1 : 0;
      submitted += p.t_ack !== null ? 1 : 0;
      complete += p.state === 'complete' ? 1 : 0;
    }
    return { started: this.payments.length, created, submitted, complete,
      inFlight: this.payments.filter((p) => p.busy).length,
      refunds: this.refunds.length,
      refunds_answered: this.refunds.filter((r) => r.id).length };
  }

  /** A live node for attempt `n` of a request that started at `hint`. */
  async #node(hint, n, deadline) {
    for (;;) {
      const live = this.stack.liveNodes();
      if (live.length) {
        return live[(hint + n) % live.length];
      }
      if (Date.now() > deadline) {
        throw new GiveUp('no live node');
      }
      await sleep(100);
    }
  }

  /**
   * Sends one request until `judge(res)` says done: retried (same request)
   * after no answer, 5xx or 409, rotating over the live nodes. `judge`
   * returns 'done', 'retry' or 'fail'.
   */
  async #exchange(p, what, path, options, judge, onAnswer) {
    const deadline = Date.now() + this.cfg.request_deadline_s * 1000;
    const hint = this.rr++;
    let last = '';
    for (let n = 0; n < RETRIES_MAX; n++) {
      if (n > 0) {
        this.counts.retries++;
        p.retries++;
        await sleep(backoffMs(n));
      }
      if (Date.now() > deadline) {
        break;
      }
      const node = await this.#node(hint, n, deadline);
      this.counts.requests++;
      let res;
      try {
        res = await request(this.stack.nodeUrl(node), path,
          { ...options, timeoutMs: this.cfg.request_timeout_ms });
      } catch (err) {
        this.counts.no_answer++;
        last = `${what}: no answer from node-${node} (${err.code ?? err.message})`;
        continue;
      }
      onAnswer?.(res, node);
      const verdict = judge(res);
      if (verdict === 'done') {
        return res;
      }
      last = `${what}: HTTP ${res.status} from node-${node}: ${brief(res.body)}`;
      if (verdict === 'fail') {
        throw new GiveUp(last);
      }
      if (res.status >= 500) {
        this.counts.status_5xx++;
      } else if (res.status === 409) {
        this.counts.status_409++;
      }
    }
    throw new GiveUp(`${what}: gave up after ${this.cfg.request_deadline_s}s; last: ${last}`);
  }

  #apiHeaders(key) {
    return { Authorization: `Bearer ${this.stack.merchant.secretKey}`,
      'Content-Type': 'application/x-www-form-urlencoded', 'Idempotency-Key': key };
  }

  async #createSession(p) {
    const body = form([
      ['mode', 'payment'],
      ['success_url', `http://127.0.0.1/thanks?order=${p.i}`],
      ['line_items[0][price_data][currency]', 'usd'],
      ['line_items[0][price_data][unit_amount]', String(p.amount)],
      ['line_items[0][price_data][product_data][name]', `Experiment item ${p.i}`],
      ['line_items[0][quantity]', '1'],
      ['client_reference_id', `order_${p.i}`],
      ['metadata[experiment_key]', p.key],
    ]);
    const options = { method: 'POST', body, headers: this.#apiHeaders(p.key) };
    p.createBody = body;
    const replies = [];
    this.apiReplies.set(p.key, replies);
    const record = (res, node) => replies.push({ status: res.status, body: res.body,
      replayed: res.headers['idempotent-replayed'] === 'true', node, t: this.clock() });
    const send = () => this.#exchange(p, 'create session', '/v1/checkout/sessions', options,
      judgeKeyedWrite, record);
    let res;
    if (this.rng() < this.cfg.duplicate_share / 2) {
      // Two at once with the same key: one runs, the other waits (409) or replays.
      this.counts.duplicates_sent++;
      res = await twiceAtOnce(send);
    } else {
      res = await send();
    }
    const doc = JSON.parse(res.body);
    p.session = doc.id;
    p.intent = doc.payment_intent;
    p.t_created = this.clock();
    if (this.rng() < this.cfg.duplicate_share) {
      // A later replay of the same request (a store retrying after a timeout).
      this.counts.duplicates_sent++;
      await send().catch((err) => p.errors.push(`duplicate create: ${err.message}`));
    }
  }

  /** Submits the card; true once the PSP acknowledged it (303 or "paid"). */
  async #pay(p, card, nonce) {
    const body = form([['nonce', nonce], ['name', 'x'], ['number', card], ['exp', '12/30'],
      ['cvc', '123']]);
    const options = { method: 'POST', body,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' } };
    const replies = [];
    this.payReplies.set(nonce, replies);
    const record = (res, node) => replies.push({ status: res.status,
      location: res.headers.location ?? null, node, t: this.clock() });
    const judge = (res) => {
      if (res.status === 303 || (res.status === 200 && res.body.includes('Already paid'))) {
        return 'done';
      }
      return res.status >= 500 ? 'retry' : 'fail';
    };
    const send = () => this.#exchange(p, 'pay', `/pay/${p.session}`, options, judge, record);
    if (this.rng() < this.cfg.duplicate_share) {
      // A double click: the same form (same nonce) posted twice at once.
      this.counts.duplicates_sent++;
      const both = await Promise.allSettled([send(), send()]);
      if (!both.some((r) => r.status === 'fulfilled')) {
        throw both[0].reason;
      }
    } else {
      await send();
    }
  }

  /** Polls status.json: 'complete', 'declined' or 'timeout'. */
  async #outcome(p) {
    const deadline = Date.now() + this.cfg.complete_timeout_s * 1000;
    // 20 ms steps for the first second (the latency figures' resolution),
    // then backing off to 250 ms.
    let wait = 20;
    const fastUntil = Date.now() + 1000;
    const hint = this.rr++;
    for (let n = 0; Date.now() < deadline; n++) {
      const live = this.stack.liveNodes();
      if (live.length) {
        const node = live[(hint + n) % live.length];
        try {
          const res = await request(this.stack.nodeUrl(node), `/pay/${p.session}/status.json`,
            { timeoutMs: Math.min(this.cfg.request_timeout_ms, 2000) });
          if (res.status === 200) {
            const doc = JSON.parse(res.body);
            if (doc.status === 'complete') {
              return 'complete';
            }
            if (doc.intent_status === 'requires_payment_method' && doc.error_message) {
              p.last_error = doc.error_message;
              return 'declined';
            }
          }
        } catch {
          // no answer: try another node next time
        }
      }
      await sleep(wait);
      if (Date.now() > fastUntil) {
        wait = Math.min(250, wait * 1.5);
      }
    }
    return 'timeout';
  }

  async #onePayment(i) {
    const span = this.cfg.amount_max - this.cfg.amount_min + 1;
    const p = {
      i, key: `exp_${this.runId}_${i}`,
      amount: this.cfg.amount_min + Math.floor(this.rng() * span),
      session: null, intent: null, state: 'creating', busy: true,
      t_start: this.clock(), t_created: null, t_pay: null, t_ack: null, t_done: null,
      latency_ms: null, attempts: [], retries: 0, errors: [], last_error: null,
    };
    this.payments.push(p);
    let cards = this.rng() < this.cfg.decline_share ? [DECLINE_CARD, GOOD_CARD] : [GOOD_CARD];
    p.abandoned = this.cfg.abandon_share > 0
      && abandonRng(this.cfg.seed ?? 1, i)() < this.cfg.abandon_share;
    if (p.abandoned) {
      cards = cards.length > 1 ? [DECLINE_CARD] : []; // leaves after the decline, if any
    }
    try {
      await this.#createSession(p);
      p.state = 'created';
      for (const card of cards) {
        const nonce = randomBytes(12).toString('hex');
        const attempt = { nonce, card: card.slice(-4), outcome: null };
        p.attempts.push(attempt);
        const sentAt = this.clock();
        p.t_pay = sentAt;
        await this.#pay(p, card, nonce);
        p.t_ack ??= this.clock();
        p.state = 'submitted';
        attempt.outcome = await this.#outcome(p);
        if (attempt.outcome === 'complete') {
          p.state = 'complete';
          p.t_done = this.clock();
          p.latency_ms = Math.round((p.t_done - sentAt) * 1000);
          this.#maybeRefund(p);
          return;
        }
        if (attempt.outcome === 'timeout') {
          p.state = 'late'; // the settle phase looks at it again
          return;
        }
        if (card !== DECLINE_CARD) {
          p.state = 'unexpected_decline';
          p.errors.push(`card ${card.slice(-4)} declined: ${p.last_error}`);
          return;
        }
      }
      if (p.abandoned) {
        await this.#runOutOfTime(p);
      }
    } catch (err) {
      if (!(err instanceof GiveUp)) {
        throw err;
      }
      p.errors.push(err.message);
      p.state = p.session ? 'pay_failed' : 'create_failed';
    } finally {
      p.busy = false;
    }
  }

  /**
   * The shopper left: the session's time runs out now instead of in 30
   * minutes (its expires_at and its score in sessions:expiring, a second in
   * the past), retried while Redis is paused or down. The PSP's sweep does
   * the rest; the settle phase waits for it.
   */
  async #runOutOfTime(p) {
    p.state = 'abandoned';
    const deadline = Date.now() + this.cfg.request_deadline_s * 1000;
    for (let n = 0; ; n++) {
      const past = String(Math.floor(Date.now() / 1000) - 1);
      try {
        // One transaction: the field and the set entry move together.
        const out = await this.stack.redisCli(['EVAL',
          "if redis.call('HGET', KEYS[1], 'status') ~= 'open' then return 0 end "
            + "redis.call('HSET', KEYS[1], 'expires_at', ARGV[1]) "
            + "redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2]) return 1",
          '2', `cs:${p.session}`, 'sessions:expiring', past, p.session], { timeoutMs: 3000 });
        if (out === 0 || out === 1) {
          p.t_abandoned = this.clock();
          return;
        }
      } catch {
        // Redis paused or down: try again
      }
      if (Date.now() > deadline) {
        p.errors.push('could not make the abandoned session run out of time');
        return;
      }
      await sleep(backoffMs(n));
    }
  }

  /** Runs until every checkout finished or `stopAtS` (no new ones after it). */
  async run(stopAtS) {
    this.stopAt = stopAtS;
    const startMs = Date.now();
    const rate = this.cfg.rate_per_s;
    const worker = async () => {
      for (;;) {
        if (this.next >= this.cfg.payments || this.clock() >= this.stopAt) {
          return;
        }
        const i = this.next++;
        if (rate > 0) {
          const due = startMs + (i / rate) * 1000;
          while (Date.now() < due && this.clock() < this.stopAt) {
            await sleep(Math.min(200, due - Date.now()));
          }
          if (this.clock() >= this.stopAt) {
            return;
          }
        }
        await this.#onePayment(i);
      }
    };
    await Promise.all(Array.from({ length: this.cfg.concurrency }, worker));
    this.checkoutsDoneAt = this.clock();
    // Refunds of the last checkouts may still be waiting or retrying.
    while (this.refundTasks.size) {
      await Promise.all([...this.refundTasks]);
    }
    this.done = true;
  }

  /**
   * Checkout p is paid: with probability refund_share, refund part of it a
   * little later, in the background (the worker goes on with checkouts, so
   * refunds run while the faults do).
   */
  #maybeRefund(p) {
    if (!(this.cfg.refund_share > 0) || !p.intent) {
      return;
    }
    const rng = refundRng(this.cfg.seed ?? 1, p.i);
    if (rng() >= this.cfg.refund_share) {
      return;
    }
    // Sent a while after the payment completed (uniform in refund_delay_ms),
    // so that it meets the payment in every state: live, being archived,
    // archived.
    const [lo, hi] = this.cfg.refund_delay_ms ?? [100, 2000];
    const r = {
      i: p.i, intent: p.intent, session: p.session, key: `${p.key}_refund`,
      amount: Math.max(1, Math.round(p.amount * REFUND_PART)), paid: p.amount,
      duplicate: rng() < this.cfg.duplicate_share,
      delay_ms: Math.round(lo + rng() * (hi - lo)),
      state: 'waiting', payment_archived: null, id: null, status: null, final_status: null,
      http: null,
      t_paid: p.t_done, t_sent: null, t_answer: null, retries: 0, errors: [],
    };
    this.refunds.push(r);
    const task = this.#refund(r).catch((err) => {
      r.state = 'error';
      r.errors.push(`refund: ${err.message}`);
    }).finally(() => this.refundTasks.delete(task));
    this.refundTasks.add(task);
  }

  /**
   * Whether the payment is archived right now (its intent hash gone from
   * Redis), for the figures only; null when Redis does not answer at once.
   */
  async #archived(intent) {
    if (this.stack.redisState?.() !== 'up') {
      return null;
    }
    try {
      return (await this.stack.redisCli(['EXISTS', `pi:${intent}`], { timeoutMs: 1000 })) === 0;
    } catch {
      return null;
    }
  }

  #refundRequest(r) {
    const body = form([['payment_intent', r.intent], ['amount', String(r.amount)],
      ['metadata[experiment_key]', r.key]]);
    return { method: 'POST', body, headers: this.#apiHeaders(r.key) };
  }

  #recordRefundAnswer(r, extra = {}) {
    let replies = this.refundReplies.get(r.key);
    if (!replies) {
      replies = [];
      this.refundReplies.set(r.key, replies);
    }
    return (res, node) => {
      let doc = null;
      try {
        doc = JSON.parse(res.body);
      } catch {
        doc = null;
      }
      const ok = res.status >= 200 && res.status < 300;
      replies.push({ status: res.status, id: ok ? doc?.id ?? null : null,
        refund_status: ok ? doc?.status ?? null : null,
        error: ok ? null : doc?.error?.code ?? brief(res.body),
        body: ok || res.headers['idempotent-replayed'] === 'true' ? res.body : null,
        replayed: res.headers['idempotent-replayed'] === 'true', node, t: this.clock(),
        ...extra });
    };
  }

  /** One logical refund: its request until an answer, maybe twice at once. */
  async #refund(r) {
    let wait = r.delay_ms;
    if (this.clock() + wait / 1000 > this.stopAt) {
      wait = 0;
    }
    await sleep(wait);
    r.payment_archived = await this.#archived(r.intent);
    r.state = 'sending';
    r.t_sent = this.clock();
    const options = this.#refundRequest(r);
    const record = this.#recordRefundAnswer(r);
    const send = () => this.#exchange(r, 'refund', '/v1/refunds', options, judgeKeyedWrite,
      record);
    let res;
    try {
      if (r.duplicate) {
        // The same refund sent twice at once (a double click in the merchant's back
        // office): one runs, the other waits (409, retried) or replays.
        this.counts.duplicates_sent++;
        this.counts.refund_duplicates_sent++;
        res = await twiceAtOnce(send);
      } else {
        res = await send();
      }
    } catch (err) {
      if (!(err instanceof GiveUp)) {
        throw err;
      }
      r.errors.push(err.message);
      const last = (this.refundReplies.get(r.key) ?? []).at(-1);
      r.http = last?.status ?? null;
      // A 4xx is the PSP refusing a refund of a paid payment; without any
      // answer (or only 5xx) the outcome is unknown to the merchant.
      r.state = last && last.status >= 400 && last.status < 500 ? 'refused' : 'gave_up';
      r.t_answer = this.clock();
      return;
    }
    const doc = JSON.parse(res.body);
    r.id = doc.id;
    r.status = doc.status;
    r.http = res.status;
    r.state = 'answered';
    r.t_answer = this.clock();
  }

  /**
   * After the run: sends every answered refund once more with its key (as
   * replayEveryKey does for the creates); the answer is recorded with the
   * others, so invariant 6 checks it names the same refund.
   */
  async replayRefundKeys(limit = 16) {
    const answered = this.refunds.filter((r) => r.id);
    let next = 0;
    const worker = async () => {
      while (next < answered.length) {
        const r = answered[next++];
        try {
          await this.#exchange(r, 'final refund replay', '/v1/refunds', this.#refundRequest(r),
            (res) => (res.status >= 500 || res.status === 409 ? 'retry' : 'done'),
            this.#recordRefundAnswer(r, { final: true }));
        } catch (err) {
          r.errors.push(`final replay: ${err.message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: limit }, worker));
    return answered.length;
  }

  /**
   * After the run: sends every acknowledged create once more with its key
   * (what a store retrying a day later would do); the answer is recorded
   * with the others, so invariant 5 compares it with the first one.
   */
  async replayEveryKey(limit = 16) {
    const unpaid = this.payments.filter((p) => p.session && p.createBody);
    let next = 0;
    const worker = async () => {
      while (next < unpaid.length) {
        const p = unpaid[next++];
        const replies = this.apiReplies.get(p.key);
        const options = { method: 'POST', body: p.createBody, headers: this.#apiHeaders(p.key) };
        try {
          await this.#exchange(p, 'final replay', '/v1/checkout/sessions', options,
            (res) => (res.status >= 500 || res.status === 409 ? 'retry' : 'done'),
            (res, node) => replies.push({ status: res.status, body: res.body,
              replayed: res.headers['idempotent-replayed'] === 'true', node, t: this.clock(),
              final: true }));
        } catch (err) {
          p.errors.push(`final replay: ${err.message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: limit }, worker));
    return unpaid.length;
  }

  /** status.json of one payment from any live node (null without answer). */
  async sessionStatus(p) {
    for (const node of this.stack.liveNodes()) {
      try {
        const res = await request(this.stack.nodeUrl(node), `/pay/${p.session}/status.json`,
          { timeoutMs: 2000 });
        if (res.status === 200 || res.status === 404) {
          return { code: res.status, doc: res.status === 200 ? JSON.parse(res.body) : null };
        }
      } catch {
        // next node
      }
    }
    return null;
  }
}
