// A fault-injecting TCP proxy in front of the nodes' cluster ports (CAF
// BASP), so an experiment can cut one node off from its peers while it still
// reaches Redis and the card network: a network partition without nftables.
//
// One listener per ordered pair "X dials Y", forwarding to Y's real cluster
// port; node X is started with --psp.cluster-peer-routes=Y=<that listener>,…
// so every connection between two nodes crosses exactly one listener (CAF's
// automatic connections stay off, see docs/cluster.md). cut(X) destroys
// every open connection of the pairs involving X and refuses new ones
// (accepted and destroyed at once) until heal(X). Loopback only; a bound on
// connections per pair and on every wait.

import net from 'node:net';

const HOST = '127.0.0.1';
const CONNECTIONS_PER_PAIR_MAX = 64; // CAF keeps one per pair; reconnects churn
const UPSTREAM_CONNECT_TIMEOUT_MS = 3000;
const CLOSE_TIMEOUT_MS = 3000;

/** Ends a socket at once: a reset where Node has it, else a plain destroy. */
function drop(sock) {
  if (sock.destroyed) {
    return;
  }
  try {
    if (typeof sock.resetAndDestroy === 'function' && sock.readyState !== 'opening') {
      sock.resetAndDestroy();
      return;
    }
  } catch {
    // not connected (yet): a plain destroy below
  }
  sock.destroy();
}

class Pair {
  constructor(from, to) {
    Object.assign(this, { from, to });
    this.server = null;
    this.port = 0;
    this.links = new Set(); // {down, up}: the dialer's socket and ours to the target
    this.stats = { accepted: 0, refused: 0, cut: 0, over_limit: 0, upstream_failed: 0 };
  }

  closeLinks() {
    let n = 0;
    for (const link of this.links) {
      drop(link.down);
      drop(link.up);
      n++;
    }
    this.links.clear();
    return n;
  }
}

export class PartitionProxy {
  constructor() {
    this.pairs = new Map();   // "from>to" -> Pair
    this.targets = new Map(); // node -> its real cluster port
    this.cutNodes = new Set();
  }

  static key(from, to) {
    return `${from}>${to}`;
  }

  /** Where node `to` really listens (set again if it moves). */
  setTarget(node, port) {
    this.targets.set(node, port);
  }

  /** Starts the listener of "from dials to" on `port` (rejects if taken). */
  listen(from, to, port) {
    const pair = new Pair(from, to);
    const server = net.createServer({ noDelay: true }, (down) => this.#accept(pair, down));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: HOST, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', () => {}); // accept errors (EMFILE …): the dialer retries
        pair.server = server;
        pair.port = port;
        this.pairs.set(PartitionProxy.key(from, to), pair);
        resolve(port);
      });
    });
  }

  blocked(pair) {
    return this.cutNodes.has(pair.from) || this.cutNodes.has(pair.to);
  }

  #accept(pair, down) {
    down.on('error', () => {});
    if (this.blocked(pair)) {
      pair.stats.refused++;
      drop(down);
      return;
    }
    if (pair.links.size >= CONNECTIONS_PER_PAIR_MAX) {
      pair.stats.over_limit++;
      drop(down);
      return;
    }
    const target = this.targets.get(pair.to);
    if (!target) {
      pair.stats.upstream_failed++;
      drop(down);
      return;
    }
    pair.stats.accepted++;
    const up = net.connect({ host: HOST, port: target, noDelay: true });
    const link = { down, up };
    pair.links.add(link);
    const close = () => {
      if (pair.links.delete(link)) {
        drop(down);
        drop(up);
      }
    };
    up.setTimeout(UPSTREAM_CONNECT_TIMEOUT_MS, () => {
      pair.stats.upstream_failed++;
      close();
    });
    up.once('connect', () => up.setTimeout(0));
    up.on('error', close);
    down.on('error', close);
    up.on('close', close);
    down.on('close', close);
    down.pipe(up);
    up.pipe(down);
  }

  /** "to=127.0.0.1:port,…" for every pair `from` dials (its --psp.cluster-peer-routes). */
  routesFor(from) {
    const out = [];
    for (const pair of this.pairs.values()) {
      if (pair.from === from) {
        out.push(`${pair.to}=${HOST}:${pair.port}`);
      }
    }
    return out.sort().join(',');
  }

  isCut(node) {
    return this.cutNodes.has(node);
  }

  /** Cuts `node` off from its peers; returns the number of connections closed. */
  cut(node) {
    if (this.cutNodes.has(node)) {
      throw new Error(`${node} is already cut off`);
    }
    this.cutNodes.add(node);
    let closed = 0;
    for (const pair of this.pairs.values()) {
      if (pair.from === node || pair.to === node) {
        const n = pair.closeLinks();
        pair.stats.cut += n;
        closed += n;
      }
    }
    return closed;
  }

  /** Lets `node`'s connections through again (the nodes reconnect by themselves). */
  heal(node) {
    if (!this.cutNodes.has(node)) {
      throw new Error(`${node} is not cut off`);
    }
    this.cutNodes.delete(node);
  }

  /** Per pair: its port and counters (for result.json). */
  stats() {
    return [...this.pairs.values()].map((p) => ({ from: p.from, to: p.to, port: p.port,
      open: p.links.size, ...p.stats }));
  }

  /** Closes every listener and connection (bounded). */
  async close() {
    const closing = [];
    for (const pair of this.pairs.values()) {
      pair.closeLinks();
      if (pair.server) {
        const server = pair.server;
        pair.server = null;
        closing.push(new Promise((resolve) => server.close(() => resolve())));
      }
    }
    let timer;
    await Promise.race([Promise.all(closing),
      new Promise((resolve) => { timer = setTimeout(resolve, CLOSE_TIMEOUT_MS); })]);
    clearTimeout(timer);
    // The pairs stay for stats(), read after the stack stopped.
  }
}
