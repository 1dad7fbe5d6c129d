// Minimal HTTP client for the runner: node:http with a keep-alive agent per
// target, a hard per-request timeout, raw bodies and headers, no redirects
// followed. Every call resolves to {status, headers, body} or rejects with an
// Error whose `code` says why there was no answer (timeout, ECONNREFUSED, …).

import http from 'node:http';

const agents = new Map(); // "host:port" -> http.Agent

function agentFor(url) {
  const key = `${url.hostname}:${url.port}`;
  let agent = agents.get(key);
  if (!agent) {
    // cpp-httplib pins one worker thread per open connection: keep the pool
    // per target well below the node's --psp.http-threads (32).
    agent = new http.Agent({ keepAlive: true, maxSockets: 24, maxFreeSockets: 24,
      keepAliveMsecs: 1000, scheduling: 'lifo' });
    agents.set(key, agent);
  }
  return agent;
}

/** Closes every pooled connection (at the end, and after a peer restart). */
export function closeAgents() {
  for (const agent of agents.values()) {
    agent.destroy();
  }
  agents.clear();
}

/** Drops the pooled connections to one host:port (a killed/paused peer). */
export function dropAgent(baseUrl) {
  const url = new URL(baseUrl);
  const key = `${url.hostname}:${url.port}`;
  const agent = agents.get(key);
  if (agent) {
    agent.destroy();
    agents.delete(key);
  }
}

/**
 * One HTTP exchange. `body` is a string (sent as is) or undefined;
 * `timeoutMs` bounds the whole exchange (connect + answer).
 */
export function request(baseUrl, path, { method = 'GET', headers = {}, body,
  timeoutMs = 5000 } = {}) {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
    const hdrs = { ...headers };
    if (payload !== undefined) {
      hdrs['Content-Length'] = String(payload.length);
    }
    const req = http.request({
      hostname: url.hostname, port: url.port, path: url.pathname + url.search,
      method, headers: hdrs, agent: agentFor(url),
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode, headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => { clearTimeout(timer); reject(err); });
    });
    const timer = setTimeout(() => {
      const err = new Error(`no answer within ${timeoutMs} ms`);
      err.code = 'timeout';
      req.destroy(err);
    }, timeoutMs);
    req.on('error', (err) => { clearTimeout(timer); reject(err); });
    req.setNoDelay(true);
    if (payload !== undefined) {
      req.write(payload);
    }
    req.end();
  });
}

/** request() that parses a JSON answer; `json` is null when it is not JSON. */
export async function requestJson(baseUrl, path, options) {
  const res = await request(baseUrl, path, options);
  let json = null;
  try {
    json = JSON.parse(res.body);
  } catch {
    json = null;
  }
  return { ...res, json };
}

/** application/x-www-form-urlencoded from [key, value] pairs. */
export function form(pairs) {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
