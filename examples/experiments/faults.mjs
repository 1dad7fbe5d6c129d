// Fault kinds: how an experiment file names them, how they are checked, how
// they are applied to the running stack and the webhook receiver, and how
// everything is healed at the end.

export const FAULT_KINDS = ['kill_node', 'stop_node', 'restart_node', 'pause_node',
  'resume_node',
  'kill_redis', 'restart_redis', 'pause_redis', 'card_network', 'card_network_reset',
  'webhook', 'partition', 'heal_partition'];

// kind -> kind of the entry that undoes it (for "duration").
const UNDO = {
  kill_node: 'restart_node', stop_node: 'restart_node', pause_node: 'resume_node',
  kill_redis: 'restart_redis',
  card_network: 'card_network_reset', webhook: 'webhook', partition: 'heal_partition',
};

const NODE_KINDS = new Set(['kill_node', 'stop_node', 'restart_node', 'pause_node',
  'resume_node',
  'partition', 'heal_partition']);

const KNOBS = {
  latency_ms: 'ms', latency_jitter_ms: 'ms', timeout_ms: 'ms',
  error_rate: 'rate', error_after_charge_rate: 'rate', timeout_rate: 'rate',
  blackhole: 'bool',
};

// The simulator's knobs with nothing injected (what card_network_reset sets;
// POST /admin/reset would also forget the charges the checker reads).
export const CARD_NETWORK_HEALED = { latency_ms: 0, latency_jitter_ms: 0, timeout_ms: 0,
  error_rate: 0, error_after_charge_rate: 0, timeout_rate: 0, blackhole: false };

const WEBHOOK_MODES = ['ok', 'fail', 'timeout', 'slow'];

function fail(i, message) {
  throw new Error(`faults[${i}]: ${message}`);
}

function checkKnobs(i, set) {
  if (!set || typeof set !== 'object' || Array.isArray(set) || !Object.keys(set).length) {
    fail(i, `card_network needs "set": {knob: value} (knobs: ${Object.keys(KNOBS).join(', ')})`);
  }
  for (const [k, v] of Object.entries(set)) {
    const type = KNOBS[k];
    if (!type) {
      fail(i, `unknown card network knob "${k}" (knobs: ${Object.keys(KNOBS).join(', ')})`);
    }
    const ok = type === 'ms' ? Number.isInteger(v) && v >= 0 && v <= 120000
      : type === 'rate' ? typeof v === 'number' && v >= 0 && v <= 1
        : typeof v === 'boolean';
    if (!ok) {
      fail(i, `card network knob ${k}: ${type === 'ms' ? 'an integer 0..120000'
        : type === 'rate' ? 'a number 0..1' : 'true or false'} (got ${JSON.stringify(v)})`);
    }
  }
}

/**
 * Checks the experiment's fault list and returns it sorted by time, with
 * every "duration" expanded into the entry that undoes the fault.
 */
export function expandSchedule(faults, nodes) {
  const out = [];
  faults.forEach((f, i) => {
    if (!f || typeof f !== 'object') {
      fail(i, 'each fault is an object {"at": seconds, "kind": ...}');
    }
    const allowed = new Set(['at', 'kind', 'node', 'duration', 'ms', 'set', 'mode',
      'status', 'delay_ms', 'note']);
    for (const key of Object.keys(f)) {
      if (!allowed.has(key) && !key.startsWith('_')) {
        fail(i, `unknown field "${key}" (fields starting with "_" are comments)`);
      }
    }
    if (f.kind === 'partition_node') {
      fail(i, 'partition_node is now "partition" (with "node" and "duration", or a later '
        + '"heal_partition" entry)');
    }
    if (!FAULT_KINDS.includes(f.kind)) {
      fail(i, `unknown kind "${f.kind}" (kinds: ${FAULT_KINDS.join(', ')})`);
    }
    // A field the kind does not read is an error, not ignored: a "ms" on a
    // pause_node would otherwise leave the node paused until the final heal.
    const applies = new Set(['at', 'kind', 'note', 'duration',
      ...(NODE_KINDS.has(f.kind) ? ['node'] : []),
      ...(f.kind === 'pause_redis' ? ['ms'] : []),
      ...(f.kind === 'card_network' ? ['set'] : []),
      ...(f.kind === 'webhook' ? ['mode'] : []),
      ...(f.kind === 'webhook' && f.mode === 'fail' ? ['status'] : []),
      ...(f.kind === 'webhook' && (f.mode === 'slow' || f.mode === 'timeout')
        ? ['delay_ms'] : [])]);
    for (const key of Object.keys(f)) {
      if (!applies.has(key) && !key.startsWith('_')) {
        fail(i, `"${key}" does not apply to ${f.kind}`
          + `${f.kind === 'webhook' && f.mode ? ` ${f.mode}` : ''}`
          + (f.kind === 'pause_node' && key === 'ms'
            ? ' (use "duration": seconds, or a later "resume_node")' : ''));
      }
    }
    if (typeof f.at !== 'number' || !(f.at >= 0) || f.at > 86400) {
      fail(i, '"at" must be a number of seconds from the start of the load (0..86400)');
    }
    const entry = { at: f.at, kind: f.kind, note: f.note ?? '' };
    if (NODE_KINDS.has(f.kind)) {
      if (!Number.isInteger(f.node) || f.node < 1 || f.node > nodes) {
        fail(i, `"node" must be 1..${nodes}`);
      }
      entry.node = f.node;
    }
    if (f.kind === 'pause_redis') {
      if (!Number.isInteger(f.ms) || f.ms < 1 || f.ms > 60000) {
        fail(i, 'pause_redis needs "ms": 1..60000');
      }
      entry.ms = f.ms;
    }
    if (f.kind === 'card_network') {
      checkKnobs(i, f.set);
      entry.set = { ...f.set };
    }
    if (f.kind === 'webhook') {
      if (!WEBHOOK_MODES.includes(f.mode)) {
        fail(i, `webhook needs "mode": one of ${WEBHOOK_MODES.join(', ')}`);
      }
      entry.mode = f.mode;
      if (f.mode === 'fail') {
        const status = f.status ?? 500;
        if (!Number.isInteger(status) || status < 400 || status > 599) {
          fail(i, '"status" of a failing receiver must be 400..599');
        }
        entry.status = status;
      }
      if (f.mode === 'slow' || f.mode === 'timeout') {
        const delay = f.delay_ms ?? (f.mode === 'slow' ? 1000 : 15000);
        if (!Number.isInteger(delay) || delay < 1 || delay > 60000) {
          fail(i, '"delay_ms" must be 1..60000');
        }
        entry.delay_ms = delay;
      }
    }
    if (f.duration !== undefined) {
      if (!UNDO[f.kind] || (f.kind === 'webhook' && f.mode === 'ok')) {
        fail(i, `"duration" makes no sense for ${f.kind}${f.mode ? ` ${f.mode}` : ''}`);
      }
      if (typeof f.duration !== 'number' || !(f.duration > 0) || f.duration > 86400) {
        fail(i, '"duration" must be a positive number of seconds');
      }
    }
    out.push(entry);
    if (f.duration !== undefined) {
      const undo = { at: f.at + f.duration, kind: UNDO[f.kind], note: `end of faults[${i}]` };
      if (entry.node) {
        undo.node = entry.node;
      }
      if (f.kind === 'webhook') {
        undo.mode = 'ok';
      }
      out.push(undo);
    }
  });
  // Stable: entries at the same time keep the file's order.
  return out.map((e, i) => ({ e, i })).sort((a, b) => a.e.at - b.e.at || a.i - b.i)
    .map(({ e }) => e);
}

/** A short human label: "kill node-2", "card network error_rate=0.5". */
export function faultLabel(e) {
  switch (e.kind) {
    case 'kill_node': return `kill node-${e.node}`;
    case 'stop_node': return `stop node-${e.node} (SIGTERM)`;
    case 'restart_node': return `restart node-${e.node}`;
    case 'pause_node': return `pause node-${e.node}`;
    case 'resume_node': return `resume node-${e.node}`;
    case 'kill_redis': return 'kill -9 redis';
    case 'restart_redis': return 'restart redis';
    case 'pause_redis': return `redis CLIENT PAUSE ${e.ms} ms`;
    case 'card_network': return `card network ${Object.entries(e.set)
      .map(([k, v]) => `${k}=${v}`).join(' ')}`;
    case 'card_network_reset': return 'card network healed';
    case 'partition': return `partition node-${e.node} (cut from its peers)`;
    case 'heal_partition': return `heal partition of node-${e.node}`;
    case 'webhook': return e.mode === 'ok' ? 'webhook receiver healed'
      : `webhook receiver ${e.mode}${e.status ? ` ${e.status}` : ''}`
        + `${e.delay_ms ? ` ${e.delay_ms} ms` : ''}`;
    default: return e.kind;
  }
}

/** Whether the entry injects (true) or heals (false) something. */
export function isInjection(e) {
  return ['kill_node', 'stop_node', 'pause_node', 'kill_redis', 'pause_redis', 'card_network',
    'partition']
    .includes(e.kind)
    || (e.kind === 'webhook' && e.mode !== 'ok');
}

/** Applies fault entries to a Stack and a Receiver; records a timeline. */
export class FaultInjector {
  constructor({ stack, receiver, clock }) {
    this.stack = stack;
    this.receiver = receiver;
    this.clock = clock; // () => seconds since the load started
    this.timeline = []; // {at, t, kind, label, ok, error, ms, injection}
  }

  get injected() {
    return this.timeline.filter((r) => r.injection && r.ok).length;
  }

  async apply(e, { phase = 'schedule' } = {}) {
    const started = Date.now();
    const record = { at: e.at ?? null, t: this.clock(), kind: e.kind, node: e.node ?? null,
      label: faultLabel(e), injection: isInjection(e), phase, ok: true, error: null,
      pause_ms: e.kind === 'pause_redis' ? e.ms : null };
    try {
      const detail = await this.#run(e);
      if (typeof detail === 'string') {
        record.detail = detail;
      }
    } catch (err) {
      record.ok = false;
      record.error = err.message;
    }
    record.ms = Date.now() - started;
    this.timeline.push(record);
    return record;
  }

  async #run(e) {
    const s = this.stack;
    switch (e.kind) {
      case 'kill_node': return s.killNode(e.node);
      case 'stop_node': return s.stopNode(e.node);
      case 'restart_node': return s.restartNode(e.node);
      case 'pause_node': return s.pauseNode(e.node);
      case 'resume_node': return s.resumeNode(e.node);
      case 'kill_redis': return s.killRedis();
      case 'restart_redis': return s.restartRedis();
      case 'pause_redis': return s.pauseRedis(e.ms);
      case 'card_network': return s.cardNetworkFaults(e.set);
      case 'card_network_reset': return s.cardNetworkFaults(CARD_NETWORK_HEALED);
      case 'partition': return s.partitionNode(e.node);
      case 'heal_partition': return s.healPartition(e.node);
      case 'webhook': return this.receiver.setMode(e.mode, e);
      default: throw new Error(`unknown fault kind ${e.kind}`);
    }
  }

  /** Undoes whatever is still broken; returns the heal records. */
  async healAll() {
    const s = this.stack;
    const heal_steps = [];
    for (let i = 1; i <= s.nodeCount; i++) {
      if (s.nodeState(i) === 'paused') {
        heal_steps.push({ kind: 'resume_node', node: i });
      }
      if (s.isPartitioned(i)) {
        heal_steps.push({ kind: 'heal_partition', node: i });
      }
    }
    if (s.redisState() !== 'up') {
      heal_steps.push({ kind: 'restart_redis' });
    }
    for (let i = 1; i <= s.nodeCount; i++) {
      if (s.nodeState(i) !== 'up' && s.nodeState(i) !== 'paused') {
        heal_steps.push({ kind: 'restart_node', node: i });
      }
    }
    heal_steps.push({ kind: 'card_network_reset' });
    if (this.receiver.mode !== 'ok') {
      heal_steps.push({ kind: 'webhook', mode: 'ok' });
    }
    const out = [];
    for (const e of heal_steps) {
      out.push(await this.apply(e, { phase: 'heal' }));
    }
    // A Redis pause ends by itself; lift it early if one is running.
    await s.unpauseRedis().catch(() => {});
    return out;
  }
}
