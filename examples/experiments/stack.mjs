// A local PSP cluster in one run folder: redis-server (AOF, appendfsync
// always), card-network-sim, a merchant made with psp-admin and N psp-node
// processes sharing that Redis. Ports come from a scan upwards from a base.
// Every process has a log (logs/NAME.log, appended across restarts) and a
// pid file (pids/NAME.pid, which experiment.sh's trap uses as a last resort).
// The nodes form a CAF cluster whose connections all run through a
// PartitionProxy (one listener per ordered pair of nodes), so a node can be
// cut off from its peers while it still reaches Redis. Every wait is bounded.

import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, fstatSync,
  rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { dropAgent, requestJson, sleep } from './http.mjs';
import { PartitionProxy } from './partition_proxy.mjs';

const READY_TIMEOUT_MS = 30_000;

// Flags every node gets (the experiment's node_args override them by name).
const NODE_FLAGS = [
  '--psp.webhook-schedule=0s,500ms,1s,2s,5s', '--psp.reclaim-idle-ms=2000',
  '--psp.backoff-max-ms=1000', '--psp.network-tries-max=30', '--psp.log-level=info',
  // Compressed for experiments: a killed node's Idempotency-Key claims come
  // free after 10 s instead of 60 (still longer than any pause the shipped
  // experiments inject), webhook leases after 5 s, and a receiver that holds
  // a request is given up on after 2 s.
  '--psp.idempotency-lease-ms=10000', '--psp.webhook-lease-ms=5000',
  '--psp.webhook-timeout-ms=2000',
  // The webhook receiver is on 127.0.0.1, which a node refuses by default
  // (decision 48); everything here runs on loopback.
  '--psp.webhook-private-addresses=true',
];

function flagName(flag) {
  const eq = flag.indexOf('=');
  return eq < 0 ? flag : flag.slice(0, eq);
}
const STOP_GRACE_MS = 5_000;
const START_PORT_TRIES_MAX = 20;
const PORT_SCAN_MAX = 2_000;

function run(file, args, { timeoutMs = 20_000, maxBuffer = 512 * 1024 * 1024 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${path.basename(file)} ${args.slice(0, 6).join(' ')} failed: `
          + `${err.message.split('\n')[0]} ${String(stderr).trim().slice(0, 300)}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function portAccepts(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
    sock.setTimeout(500, () => done(false));
  });
}

function tail(file, lines = 25) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The text appended to `file` after byte `offset` (bounded read). */
function readFrom(file, offset, max = 1 << 20) {
  let fd;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const len = Math.max(0, Math.min(size - offset, max));
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, offset);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) {
      closeSync(fd);
    }
  }
}

function fileSize(file) {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

// Children of every Stack in this process: SIGKILLed (after SIGCONT) if the
// runner exits without stopping them.
const living = new Set();
process.on('exit', () => {
  for (const child of living) {
    try { child.kill('SIGCONT'); child.kill('SIGKILL'); } catch { /* gone */ }
  }
});

/** One managed process: spawned, watched, killed, paused, restarted. */
class Proc {
  constructor(stack, { name, file, args, env = {}, port, readyLine, binary }) {
    Object.assign(this, { stack, name, file, args, env, port, readyLine, binary });
    this.log = path.join(stack.logDir, `${name}.log`);
    this.pidFile = path.join(stack.pidDir, `${name}.pid`);
    this.child = null;
    this.state = 'down'; // up | paused | killed | down | crashed
    this.expectExit = false;
  }

  async start() {
    if (this.child && this.state !== 'down' && this.state !== 'killed'
        && this.state !== 'crashed') {
      throw new Error(`${this.name} is already running (${this.state})`);
    }
    const offset = fileSize(this.log);
    const fd = openSync(this.log, 'a');
    const child = spawn(this.file, this.args, {
      stdio: ['ignore', fd, fd], env: { ...process.env, ...this.env },
    });
    closeSync(fd);
    this.child = child;
    this.expectExit = false;
    living.add(child);
    let exited = null;
    child.once('error', (err) => { exited = { error: err.message }; });
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      living.delete(child);
      if (this.child === child) {
        this.state = this.expectExit ? this.state : 'crashed';
        if (!this.expectExit) {
          this.stack.incidents.push({ t: this.stack.clock(), process: this.name,
            what: `exited unexpectedly (code ${code}, signal ${signal})`,
            log_tail: tail(this.log, 12) });
        }
        try { rmSync(this.pidFile, { force: true }); } catch { /* ignore */ }
      }
    });
    if (child.pid) {
      writeFileSync(this.pidFile, `${child.pid}\n`);
    }
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exited) {
        this.expectExit = true;
        this.state = 'down';
        throw new Error(`${this.name} exited during start-up (${JSON.stringify(exited)});`
          + ` last lines of ${this.log}:\n${tail(this.log)}`);
      }
      if (readFrom(this.log, offset).includes(this.readyLine)
          && await portAccepts(this.port)) {
        break;
      }
      if (Date.now() > deadline) {
        this.expectExit = true;
        child.kill('SIGKILL');
        this.state = 'down';
        throw new Error(`${this.name} printed no "${this.readyLine}" within `
          + `${READY_TIMEOUT_MS} ms; last lines of ${this.log}:\n${tail(this.log)}`);
      }
      await sleep(50);
    }
    this.state = 'up';
  }

  signal(sig) {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) {
      throw new Error(`${this.name} is not running`);
    }
    this.child.kill(sig);
  }

  async kill() {
    if (this.state !== 'up' && this.state !== 'paused') {
      throw new Error(`${this.name} is ${this.state}, cannot kill it`);
    }
    this.expectExit = true;
    const gone = this.#exited();
    this.signal('SIGKILL');
    await Promise.race([gone, sleep(5000)]);
    this.state = 'killed';
  }

  pause() {
    if (this.state !== 'up') {
      throw new Error(`${this.name} is ${this.state}, cannot pause it`);
    }
    this.signal('SIGSTOP');
    this.state = 'paused';
  }

  resume() {
    if (this.state !== 'paused') {
      throw new Error(`${this.name} is ${this.state}, cannot resume it`);
    }
    this.signal('SIGCONT');
    this.state = 'up';
  }

  #exited() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return Promise.resolve();
    }
    return new Promise((resolve) => child.once('exit', resolve));
  }

  /** SIGCONT + SIGTERM, SIGKILL after the grace period. */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    this.expectExit = true;
    const gone = this.#exited();
    try { child.kill('SIGCONT'); child.kill('SIGTERM'); } catch { /* gone */ }
    const timer = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } },
      STOP_GRACE_MS);
    await Promise.race([gone, sleep(STOP_GRACE_MS + 2000)]);
    clearTimeout(timer);
    this.state = 'down';
  }
}

export class Stack {
  /**
   * dir: the run folder; binaries: {node, admin, sim}; nodes: count;
   * nodeArgs/nodeEnv: extra flags / environment for psp-node; cluster: the
   * nodes join one CAF cluster through the partition proxy (false: they only
   * share Redis).
   */
  constructor({ dir, binaries, nodes, nodeArgs = [], nodeEnv = {}, portBase = 19000,
    cluster = true, clock = () => 0 }) {
    this.dir = dir;
    this.binaries = binaries;
    this.nodeCount = nodes;
    this.nodeArgs = nodeArgs;
    this.nodeEnv = nodeEnv;
    this.portBase = portBase;
    this.clock = clock;
    this.dataDir = path.join(dir, 'data');
    this.logDir = path.join(dir, 'logs');
    this.pidDir = path.join(dir, 'pids');
    this.takenPorts = new Set();
    this.incidents = []; // unexpected exits
    this.nodes = [];     // index i-1 -> Proc
    this.cluster = cluster;
    this.clusterPorts = []; // index i-1 -> the node's real cluster port
    this.proxy = cluster ? new PartitionProxy() : null;
    this.adminToken = `adm_${randomBytes(18).toString('hex')}`;
    this.vaultKey = randomBytes(32).toString('hex');
  }

  /** The next free port at or above the scan position. */
  async takePort() {
    let port = this.nextPort ?? this.portBase;
    for (let i = 0; i < PORT_SCAN_MAX; i++, port++) {
      if (!this.takenPorts.has(port) && await portFree(port)) {
        this.takenPorts.add(port);
        this.nextPort = port + 1;
        return port;
      }
    }
    throw new Error(`no free port in ${this.portBase}..${port}`);
  }

  /**
   * Starts a process on a fresh port; retries with the next port if taken.
   * A port with connections in TIME_WAIT from a previous run (CAF's cluster
   * ports, the nodes' HTTP ports) passes the scan, which binds with
   * SO_REUSEADDR like libuv always does, but not a bind without it (the
   * simulator's "cannot listen", the node's exit 4): such a start fails at
   * once, so a few more tries cost little.
   */
  async #startOnPort(makeProc) {
    let lastErr;
    for (let i = 0; i < START_PORT_TRIES_MAX; i++) {
      const proc = await makeProc(await this.takePort(), i);
      const incidents = this.incidents.length;
      try {
        await proc.start();
        return proc;
      } catch (err) {
        lastErr = err;
        if (!/in use|Address already|cannot listen|exit.*"code":4/i.test(err.message)) {
          throw err;
        }
        // A port taken is not an incident of the run: try the next one.
        this.incidents.splice(incidents).forEach((x) => {
          if (x.process !== proc.name) {
            this.incidents.push(x);
          }
        });
      }
    }
    throw lastErr;
  }

  async start() {
    for (const d of [this.dataDir, this.logDir, this.pidDir]) {
      mkdirSync(d, { recursive: true });
    }
    this.redis = await this.#startOnPort((port) => new Proc(this, {
      name: 'redis', file: 'redis-server', binary: 'redis-server', port,
      readyLine: 'Ready to accept connections',
      args: ['--bind', '127.0.0.1', '--port', String(port), '--dir', this.dataDir,
        '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
        '--daemonize', 'no', '--protected-mode', 'yes'],
    }));
    this.redisPort = this.redis.port;
    this.sim = await this.#startOnPort((port) => new Proc(this, {
      name: 'card-network', file: this.binaries.sim, binary: 'card-network-sim', port,
      readyLine: 'card-network-sim listening on',
      // Each simulator connection pins one of its threads while kept alive:
      // room for every node's card connections (64 each) plus the runner.
      // The journal keeps its charges, refunds and settlement report in the
      // run folder, so a reconciliation can be run after the run too.
      args: ['--host', '127.0.0.1', '--port', String(port),
        '--threads', String(Math.min(1024, 64 * this.nodeCount + 32)),
        '--journal', path.join(this.dataDir, 'card-network.journal')],
    }));
    this.simUrl = `http://127.0.0.1:${this.sim.port}`;
    const out = await run(this.binaries.admin, ['--redis', `127.0.0.1:${this.redisPort}`,
      'create-merchant', '--name', 'Experiment Shop']);
    const doc = JSON.parse(out);
    if (!doc.merchant || !doc.secret_key) {
      throw new Error(`psp-admin printed no merchant: ${out}`);
    }
    this.merchant = { id: doc.merchant, secretKey: doc.secret_key };
    if (this.cluster) {
      await this.#startProxy();
    }
    writeFileSync(path.join(this.dir, 'merchant.json'), `${out.trim()}\n`, { mode: 0o600 });
    writeFileSync(path.join(this.dir, 'admin_token'), this.adminToken, { mode: 0o600 });
    const starts = [];
    for (let i = 1; i <= this.nodeCount; i++) {
      starts.push(this.#startOnPort(async (port, attempt) => {
        if (attempt > 0 && this.cluster) {
          // Exit 4 may have been the cluster port: move it (the routes point
          // at the proxy, which follows).
          this.clusterPorts[i - 1] = await this.takePort();
          this.proxy.setTarget(`node-${i}`, this.clusterPorts[i - 1]);
        }
        return this.#nodeProc(i, port);
      })
        .then((proc) => { this.nodes[i - 1] = proc; }));
    }
    await Promise.all(starts);
    if (this.cluster) {
      await this.#awaitFullViews();
    }
  }

  /**
   * Waits until every node's last logged view holds every node, so the load
   * starts on a formed cluster (a node that started first saw itself alone
   * and would otherwise log a short quorum_lost when the others register).
   */
  async #awaitFullViews() {
    const all = Array.from({ length: this.nodeCount }, (_, k) => `node-${k + 1}`).join(',');
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const behind = this.nodes.filter((p) => {
        const views = readFrom(p.log, 0, 64 << 20).match(/event=cluster_view .*members=\S+/g);
        return !views || !views[views.length - 1].endsWith(`members=${all}`);
      });
      if (!behind.length) {
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`the cluster did not form within ${READY_TIMEOUT_MS} ms: `
          + `${behind.map((p) => p.name).join(', ')} do not see ${all}`);
      }
      await sleep(100);
    }
  }

  /** A cluster port per node and a proxy listener per ordered pair of nodes. */
  async #startProxy() {
    for (let i = 1; i <= this.nodeCount; i++) {
      this.clusterPorts[i - 1] = await this.takePort();
      this.proxy.setTarget(`node-${i}`, this.clusterPorts[i - 1]);
    }
    for (let from = 1; from <= this.nodeCount; from++) {
      for (let to = 1; to <= this.nodeCount; to++) {
        if (from === to) {
          continue;
        }
        let lastErr;
        for (let attempt = 0; attempt < 3; attempt++) {
          try {
            await this.proxy.listen(`node-${from}`, `node-${to}`, await this.takePort());
            lastErr = null;
            break;
          } catch (err) {
            lastErr = err; // taken meanwhile: the next free port
          }
        }
        if (lastErr) {
          throw new Error(`partition proxy node-${from}>node-${to}: ${lastErr.message}`);
        }
      }
    }
  }

  #clusterFlags(i) {
    if (!this.cluster) {
      return [];
    }
    const routes = this.proxy.routesFor(`node-${i}`);
    return ['--psp.cluster-host=127.0.0.1', `--psp.cluster-port=${this.clusterPorts[i - 1]}`,
      ...(routes ? [`--psp.cluster-peer-routes=${routes}`] : [])];
  }

  #nodeProc(i, port) {
    return new Proc(this, {
      name: `node-${i}`, file: this.binaries.node, binary: 'psp-node', port,
      readyLine: `psp-node node-${i} listening on 127.0.0.1:${port}`,
      // The secrets go by environment, not argv, where any local user's
      // `ps` would read them.
      env: { ...this.nodeEnv, PSP_ADMIN_TOKEN: this.adminToken, PSP_VAULT_KEY: this.vaultKey },
      args: [
        '--psp.http-host=127.0.0.1', `--psp.http-port=${port}`,
        `--psp.public-url=http://127.0.0.1:${port}`,
        `--psp.redis=127.0.0.1:${this.redisPort}`,
        `--psp.card-network-url=${this.simUrl}`,
        `--psp.data-dir=${this.dataDir}`, `--psp.node-id=node-${i}`,
        ...this.#clusterFlags(i),
        ...NODE_FLAGS.filter((f) => !this.nodeArgs.some((a) => flagName(a) === flagName(f))),
        ...this.nodeArgs],
    });
  }

  nodeUrl(i) {
    return `http://127.0.0.1:${this.nodes[i - 1].port}`;
  }

  nodeState(i) {
    return this.nodes[i - 1]?.state ?? 'down';
  }

  redisState() {
    return this.redis?.state ?? 'down';
  }

  /** Indexes (1-based) of nodes that are running and not paused. */
  liveNodes() {
    const out = [];
    for (let i = 1; i <= this.nodeCount; i++) {
      if (this.nodeState(i) === 'up') {
        out.push(i);
      }
    }
    return out;
  }

  async killNode(i) {
    await this.nodes[i - 1].kill();
    dropAgent(this.nodeUrl(i));
  }

  /** A graceful stop (SIGTERM): the node leaves the cluster, as in a rolling restart. */
  async stopNode(i) {
    const node = this.nodes[i - 1];
    if (node.state !== 'up') {
      throw new Error(`${node.name} is ${node.state}, cannot stop it`);
    }
    await node.stop();
    dropAgent(this.nodeUrl(i));
  }

  async restartNode(i) {
    dropAgent(this.nodeUrl(i));
    await this.nodes[i - 1].start();
  }

  pauseNode(i) {
    this.nodes[i - 1].pause();
  }

  resumeNode(i) {
    this.nodes[i - 1].resume();
  }

  /** Cuts node i off from its peers (not from Redis): see partition_proxy.mjs. */
  partitionNode(i) {
    if (!this.proxy) {
      throw new Error('the nodes run without a cluster: nothing to partition');
    }
    return `${this.proxy.cut(`node-${i}`)} connection(s) closed`;
  }

  healPartition(i) {
    if (!this.proxy) {
      throw new Error('the nodes run without a cluster: nothing to heal');
    }
    this.proxy.heal(`node-${i}`);
  }

  isPartitioned(i) {
    return this.proxy?.isCut(`node-${i}`) ?? false;
  }

  async killRedis() {
    await this.redis.kill();
  }

  /** Same port, same data folder: the AOF is replayed. */
  async restartRedis() {
    await this.redis.start();
  }

  async pauseRedis(ms) {
    const out = await this.redisCli(['CLIENT', 'PAUSE', String(ms), 'ALL'], { json: false });
    if (!out.includes('OK')) {
      throw new Error(`CLIENT PAUSE answered ${out.trim()}`);
    }
  }

  async unpauseRedis() {
    if (this.redisState() === 'up') {
      await this.redisCli(['CLIENT', 'UNPAUSE'], { json: false, timeoutMs: 3000 });
    }
  }

  /** redis-cli -p PORT [--json] ARGS...; parsed JSON (RESP3 maps become objects). */
  async redisCli(args, { json = true, timeoutMs = 30_000 } = {}) {
    const out = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(this.redisPort),
      ...(json ? ['--json'] : []), ...args], { timeoutMs });
    return json ? JSON.parse(out) : out;
  }

  async cardNetworkFaults(knobs) {
    const res = await requestJson(this.simUrl, '/admin/faults', {
      method: 'POST', body: JSON.stringify(knobs),
      headers: { 'Content-Type': 'application/json' }, timeoutMs: 5000,
    });
    if (res.status !== 200) {
      throw new Error(`POST /admin/faults answered ${res.status}: ${res.body.slice(0, 200)}`);
    }
    return res.json;
  }

  /**
   * The quorum changes the nodes logged (event=quorum_lost, _regained, …)
   * with times on the run's clock (negative: before the load started).
   */
  clusterEvents() {
    const out = [];
    const zeroMs = Date.now() - this.clock() * 1000;
    const re = /^(\S+Z) .*event=(quorum_\w+) node=(\S+) reachable=(\d+) registered=(\d+)/;
    for (const p of this.nodes.filter(Boolean)) {
      for (const line of readFrom(p.log, 0, 64 << 20).split('\n')) {
        const m = re.exec(line);
        if (m) {
          out.push({ t: Math.round((Date.parse(m[1]) - zeroMs) / 100) / 10, node: m[3],
            event: m[2], reachable: Number(m[4]), registered: Number(m[5]) });
        }
      }
    }
    return out.sort((a, b) => a.t - b.t);
  }

  /** Every process with its state, port and pid (for result.json). */
  describe() {
    const all = [this.redis, this.sim, ...this.nodes].filter(Boolean);
    return all.map((p) => ({ name: p.name, port: p.port, state: p.state,
      pid: p.child?.pid ?? null, log: path.relative(this.dir, p.log) }));
  }

  /** Stops everything: nodes first, then the proxy and the simulator, Redis last. */
  async stop() {
    await Promise.all(this.nodes.filter(Boolean).map((p) => p.stop()));
    if (this.proxy) {
      await this.proxy.close();
    }
    if (this.sim) {
      await this.sim.stop();
    }
    if (this.redis) {
      await this.redis.stop();
    }
    for (const p of [this.redis, this.sim, ...this.nodes].filter(Boolean)) {
      if (existsSync(p.pidFile)) {
        rmSync(p.pidFile, { force: true });
      }
    }
  }
}
