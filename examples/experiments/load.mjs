// The shoppers: N checkouts at concurrency C (optionally paced to a rate),
// round-robin over the live nodes like a health-checking load balancer.
// Each checkout: POST /v1/checkout/sessions (Idempotency-Key), POST
// /pay/<cs> through the hosted page (client-chosen nonce), then polls
// /pay/<cs>/status.json until "complete". A request without an answer or
// with a 5xx (or 409 idempotency_key_in_use) is retried with the SAME key /
// SAME nonce, bounded in count and time. Every API answer is recorded per
// Idempotency-Key, every hosted-page answer per nonce (invariant 5); some
// requests are deliberately sent twice.

import { randomBytes } from 'node:crypto';
import { form, request, sleep } from './http.mjs';

const GOOD_CARD = '4242424242424242';
const DECLINE_CARD = '4000000000000002';
const RETRIES_MAX = 200; // per request, on top of the time deadline

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

function backoffMs(n) {
  const base = Math.min(1000, 50 * 2 ** Math.min(n, 10));
  return base / 2 + Math.random() * base / 2;
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
    this.counts = { requests: 0, retries: 0, no_answer: 0, status_5xx: 0, status_409: 0,
      duplicates_sent: 0 };
    this.rr = 0;
    this.next = 0;
    this.stopAt = Infinity;
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
      inFlight: this.payments.filter((p) => p.busy).length };
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
    const judge = (res) => {
      if (res.status >= 200 && res.status < 300) {
        return 'done';
      }
      if (res.status >= 500 && res.headers['idempotent-replayed'] === 'true') {
        return 'fail'; // a stored failure: the same key will only replay it
      }
      return res.status >= 500 || res.status === 409 ? 'retry' : 'fail';
    };
    const send = () => this.#exchange(p, 'create session', '/v1/checkout/sessions', options,
      judge, record);
    let res;
    if (this.rng() < this.cfg.duplicate_share / 2) {
      // Two at once with the same key: one runs, the other waits (409) or replays.
      this.counts.duplicates_sent++;
      const both = await Promise.allSettled([send(), send()]);
      const ok = both.find((r) => r.status === 'fulfilled');
      if (!ok) {
        throw both[0].reason;
      }
      res = ok.value;
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
    const cards = this.rng() < this.cfg.decline_share ? [DECLINE_CARD, GOOD_CARD] : [GOOD_CARD];
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
    this.done = true;
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
