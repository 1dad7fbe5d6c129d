// The runner's own webhook endpoint: a Node http server on 127.0.0.1 that
// verifies Stripe-Signature (t=…,v1=hex HMAC-SHA256(secret, "t.body")),
// records every event id with its arrival times (duplicates included), and
// can be told to fail (5xx), to time out (hold the request, then drop it) or
// to be slow (answer 200 late).

import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

const BODY_MAX = 1 << 20;
const TOLERANCE_S = 600; // signature timestamps this far off are rejected

export function verifyStripeSignature(header, rawBody, secret, nowS) {
  if (!header) {
    return 'missing Stripe-Signature';
  }
  let t = null;
  const v1 = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't') {
      t = v;
    } else if (k === 'v1') {
      v1.push(v);
    }
  }
  if (!t || !/^[0-9]{1,12}$/.test(t) || !v1.length) {
    return `malformed Stripe-Signature: ${header.slice(0, 80)}`;
  }
  if (Math.abs(nowS - Number(t)) > TOLERANCE_S) {
    return `timestamp ${t} is more than ${TOLERANCE_S}s off`;
  }
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  for (const sig of v1) {
    const got = Buffer.from(sig, 'hex');
    if (got.length === expected.length && timingSafeEqual(got, expected)) {
      return null;
    }
  }
  return 'no v1 signature matches';
}

export class Receiver {
  constructor({ clock }) {
    this.clock = clock;            // seconds since the load started
    this.secret = null;            // set once the endpoint is registered
    this.mode = 'ok';              // ok | fail | timeout | slow
    this.modeOpts = {};
    this.events = new Map();       // event id -> {type, object, times: [t…]}
    this.deliveries = 0;           // requests answered 2xx
    this.refused = 0;              // requests failed on purpose (fail/timeout)
    this.badSignatures = [];       // {t, error, event}
    this.perSecond = [];           // [second] -> accepted deliveries
    this.held = new Set();         // sockets held by "timeout"
  }

  async start() {
    this.server = http.createServer((req, res) => this.#handle(req, res));
    this.server.keepAliveTimeout = 2000;
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    this.url = `http://127.0.0.1:${this.port}/webhooks`;
    return this;
  }

  setMode(mode, opts = {}) {
    this.mode = mode;
    this.modeOpts = opts;
    if (mode === 'ok') {
      for (const sock of this.held) {
        sock.destroy();
      }
      this.held.clear();
    }
  }

  #handle(req, res) {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > BODY_MAX) {
        req.destroy();
      } else {
        chunks.push(c);
      }
    });
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const answer = (status, text) => {
        if (!res.writableEnded && !res.destroyed) {
          res.writeHead(status, { 'Content-Type': 'text/plain' });
          res.end(text);
        }
      };
      if (req.method !== 'POST' || req.url !== '/webhooks') {
        return answer(404, 'not here');
      }
      const mode = this.mode;
      const opts = this.modeOpts;
      if (mode === 'fail') {
        this.refused++;
        return answer(opts.status ?? 500, 'failing on purpose');
      }
      if (mode === 'timeout') {
        // Hold the request without an answer; drop it later (or on heal).
        this.refused++;
        const sock = req.socket;
        this.held.add(sock);
        setTimeout(() => { this.held.delete(sock); sock.destroy(); }, opts.delay_ms ?? 15000)
          .unref();
        return undefined;
      }
      const accept = () => this.#accept(req, raw, answer);
      if (mode === 'slow') {
        setTimeout(accept, opts.delay_ms ?? 1000).unref();
        return undefined;
      }
      return accept();
    });
  }

  #accept(req, raw, answer) {
    const t = this.clock();
    let event = null;
    try {
      event = JSON.parse(raw);
    } catch {
      event = null;
    }
    const err = this.secret
      ? verifyStripeSignature(req.headers['stripe-signature'], raw, this.secret,
        Math.floor(Date.now() / 1000))
      : 'no endpoint secret yet';
    if (err) {
      this.badSignatures.push({ t, error: err, event: event?.id ?? null });
      return answer(400, `bad signature: ${err}`);
    }
    if (!event || typeof event.id !== 'string') {
      this.badSignatures.push({ t, error: 'body is not an event', event: null });
      return answer(400, 'not an event');
    }
    let rec = this.events.get(event.id);
    if (!rec) {
      rec = { type: event.type, object: event.data?.object?.id ?? null, times: [] };
      this.events.set(event.id, rec);
    }
    rec.times.push(t);
    this.deliveries++;
    const sec = Math.max(0, Math.floor(t));
    this.perSecond[sec] = (this.perSecond[sec] ?? 0) + 1;
    return answer(200, 'ok');
  }

  get duplicates() {
    let n = 0;
    for (const rec of this.events.values()) {
      n += rec.times.length - 1;
    }
    return n;
  }

  async stop() {
    for (const sock of this.held) {
      sock.destroy();
    }
    this.server?.closeAllConnections?.();
    await new Promise((resolve) => (this.server ? this.server.close(() => resolve())
      : resolve()));
  }
}
