// A whole PSP on loopback for one test file: a private redis-server (temp dir,
// AOF always), the card network simulator, a merchant made with psp-admin and
// one psp-node, each on a free 127.0.0.1 port with its log in the temp dir.
// useStack() starts it in a `before` hook and stops it in an `after` hook.
// Every wait is bounded.

import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');

/** Binaries under test: env vars (CTest sets them), else the default build/. */
export const binaries = {
  node: process.env.PSP_NODE_BINARY ?? path.join(repo, 'build/runtime/psp-node'),
  admin: process.env.PSP_ADMIN_BINARY ?? path.join(repo, 'build/runtime/psp-admin'),
  sim: process.env.CARD_SIM_BINARY
    ?? path.join(repo, 'build/examples/card_network_sim/card-network-sim'),
};

const startTimeoutMs = 20_000;
const stopGraceMs = 5_000;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
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

/** Polls `check` (async ok) every `pollMs` until truthy or `timeoutMs`. */
export async function waitFor(check, timeoutMs, what, pollMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(pollMs);
  }
}

function tail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function run(file, args, timeoutMs = 20_000) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${path.basename(file)} ${args.join(' ')} failed: `
          + `${err.message}\n${stdout}${stderr}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

// Children of every stack in this process, killed if the process exits
// without its after hook (a crash, Ctrl-C).
const living = new Set();
function killLiving() {
  for (const child of living) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
}
process.on('exit', killLiving);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killLiving();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  });
}

class Stack {
  /** `nodeArgs`: extra psp-node flags, e.g. a low rate limit. */
  constructor({ nodeArgs = [] } = {}) {
    this.nodeArgs = nodeArgs;
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'psp-node-suite-'));
    this.children = []; // [{name, child, log}] in start order
  }

  async spawnReady(name, file, args, port) {
    const log = path.join(this.dir, `${name}.log`);
    const fd = openSync(log, 'a');
    const child = spawn(file, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    living.add(child);
    let exited = null;
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      living.delete(child);
    });
    child.once('error', (err) => { exited = { error: err.message }; });
    this.children.push({ name, child, log, exited: () => exited });
    try {
      await waitFor(async () => {
        if (exited) {
          throw new Error(`${name} exited during start-up: `
            + JSON.stringify(exited));
        }
        return portAccepts(port);
      }, startTimeoutMs, `${name} on port ${port}`);
    } catch (err) {
      err.message += `\n---- ${log} ----\n${tail(log)}`;
      throw err;
    }
    return child;
  }

  async start() {
    this.redisPort = await freePort();
    await this.spawnReady('redis', 'redis-server', [
      '--port', String(this.redisPort), '--bind', '127.0.0.1',
      '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always',
      '--save', '', '--daemonize', 'no'], this.redisPort);
    this.simPort = await freePort();
    await this.spawnReady('card-network-sim', binaries.sim,
      ['--port', String(this.simPort)], this.simPort);
    this.merchant = await this.createMerchant('Node Suite Shop');
    this.adminToken = `admin_${randomBytes(12).toString('hex')}`;
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    await this.spawnReady('psp-node', binaries.node, [
      `--psp.http-port=${this.port}`,
      `--psp.redis=127.0.0.1:${this.redisPort}`,
      `--psp.card-network-url=http://127.0.0.1:${this.simPort}`,
      `--psp.data-dir=${path.join(this.dir, 'node-0')}`,
      '--psp.node-id=node-0',
      `--psp.admin-token=${this.adminToken}`,
      `--psp.vault-key=${randomBytes(32).toString('hex')}`,
      '--psp.webhook-schedule=0s,200ms,500ms',
      // Every receiver in these tests is on 127.0.0.1 (decision 48).
      '--psp.webhook-private-addresses=true',
      '--psp.log-level=info', ...this.nodeArgs], this.port);
    return this;
  }

  /** psp-admin create-merchant: {merchant, secret_key}. */
  async createMerchant(name) {
    const out = await run(binaries.admin, ['--redis',
      `127.0.0.1:${this.redisPort}`, 'create-merchant', '--name', name]);
    const doc = JSON.parse(out);
    if (!doc.merchant || !doc.secret_key) {
      throw new Error(`psp-admin printed no merchant: ${out}`);
    }
    return { id: doc.merchant, secretKey: doc.secret_key };
  }

  get secretKey() {
    return this.merchant.secretKey;
  }

  /** Options that point the official client at this node. */
  get clientOptions() {
    return { host: '127.0.0.1', port: this.port, protocol: 'http' };
  }

  /** The last lines of every log, for failure messages. */
  logTails(lines = 30) {
    return this.children
      .map(({ name, log }) => `---- ${name} (${log}) ----\n${tail(log, lines)}`)
      .join('\n');
  }

  async stop() {
    // Reverse start order: the node first, Redis last.
    for (const { child, exited } of [...this.children].reverse()) {
      if (exited()) {
        continue;
      }
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
      await gone;
      clearTimeout(timer);
    }
    if (!process.env.PSP_KEEP_TMP) {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/**
 * Registers before/after hooks that start and stop a stack; returns an
 * object whose `stack` field is set once the before hook has run. `setup`
 * and `teardown` (optional, async) run right after the start and before the
 * stop, in the same hooks, so they always see a started stack.
 */
export function useStack({ setup, teardown, nodeArgs } = {}) {
  const holder = { stack: null };
  before(async () => {
    // Held before start() so a half-started stack is still stopped.
    holder.stack = new Stack({ nodeArgs });
    await holder.stack.start();
    if (setup) {
      await setup(holder.stack);
    }
  }, { timeout: 60_000 });
  after(async () => {
    try {
      if (teardown) {
        await teardown();
      }
    } finally {
      if (holder.stack) {
        await holder.stack.stop();
      }
    }
  }, { timeout: 30_000 });
  return holder;
}

export async function startStack() {
  return new Stack().start();
}
