// Reads and validates an experiment file. Everything has a bound; unknown
// fields are errors (a typo must not silently turn a fault off).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FAULT_KINDS, expandSchedule } from './faults.mjs';

export const INVARIANTS = ['no_double_charge', 'no_lost_payment', 'ledger_balanced',
  'webhooks_delivered', 'idempotent_replays',
  // Only checked when refund_share > 0:
  'refunds_recorded', 'refunds_match_charges', 'refunds_once_at_network',
  // Only checked when abandon_share > 0:
  'abandoned_sessions_expired',
  // Only checked when a node of 3 or more is partitioned:
  'cut_nodes_stop_work'];

const DEFAULTS = {
  description: '',
  nodes: 3,
  cluster: true,            // one CAF cluster, connections through the partition proxy
  payments: 200,
  concurrency: 8,
  rate_per_s: 0,            // 0: as fast as the concurrency allows
  amount_min: 500,          // minor units (usd cents)
  amount_max: 9999,
  decline_share: 0.05,      // first try with a declining card, then 4242
  duplicate_share: 0.1,     // deliberate duplicate API requests / pay submits
  refund_share: 0,          // paid checkouts that are then partly refunded (POST /v1/refunds)
  refund_delay_ms: [100, 2000], // a refund is sent this long after its payment completed
  abandon_share: 0,         // checkouts the shopper leaves (after a decline, if drawn): their time runs out
  request_timeout_ms: 5000, // one HTTP exchange
  request_deadline_s: 60,   // all retries of one request
  complete_timeout_s: 60,   // shopper waits this long for "complete"
  max_duration_s: 120,      // load + fault schedule, hard stop
  settle_timeout_s: 60,     // after healing: wait for the system to drain
  metrics_interval_ms: 1000,
  replay_dead_letters: ['webhook'],
  payment_dead_letters_ok: false, // a payment left dead-lettered fails invariant 2 unless true
  node_args: [],
  node_env: {},
  faults: [],
  expect_violation: null,
  port_base: 19000,
  seed: 1,                  // PRNG seed: which checkouts decline / duplicate
};

const LIMITS = {
  nodes: [1, 16], payments: [1, 1_000_000], concurrency: [1, 256],
  rate_per_s: [0, 100_000], amount_min: [50, 99_999_999], amount_max: [50, 99_999_999],
  decline_share: [0, 1], duplicate_share: [0, 1], refund_share: [0, 1],
  abandon_share: [0, 1],
  request_timeout_ms: [100, 120_000], request_deadline_s: [1, 600],
  complete_timeout_s: [1, 3600], max_duration_s: [1, 86_400],
  settle_timeout_s: [1, 3600], metrics_interval_ms: [100, 60_000],
  port_base: [1024, 64_000], seed: [0, 2 ** 31],
};

export class ConfigError extends Error {}

export function loadExperiment(file) {
  let doc;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: ${err.message}`);
  }
  return validateExperiment(doc, path.basename(file, '.json'));
}

export function validateExperiment(doc, fallbackName) {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError('an experiment file holds one JSON object');
  }
  const known = new Set(['name', ...Object.keys(DEFAULTS)]);
  for (const key of Object.keys(doc)) {
    if (!known.has(key) && !key.startsWith('_')) {
      throw new ConfigError(`unknown field "${key}" (known: ${[...known].join(', ')}; `
        + 'fields starting with "_" are comments)');
    }
  }
  const cfg = { ...DEFAULTS, ...doc };
  cfg.name = String(doc.name ?? fallbackName);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(cfg.name)) {
    throw new ConfigError(`name "${cfg.name}" must be 1-64 letters, digits, . _ -`);
  }
  for (const [key, [lo, hi]] of Object.entries(LIMITS)) {
    const v = cfg[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
      throw new ConfigError(`${key} must be a number from ${lo} to ${hi} (got ${JSON.stringify(v)})`);
    }
  }
  for (const key of ['nodes', 'payments', 'concurrency', 'amount_min', 'amount_max', 'port_base']) {
    if (!Number.isInteger(cfg[key])) {
      throw new ConfigError(`${key} must be an integer`);
    }
  }
  if (!Array.isArray(cfg.refund_delay_ms) || cfg.refund_delay_ms.length !== 2
      || cfg.refund_delay_ms.some((v) => !Number.isInteger(v) || v < 0 || v > 600_000)
      || cfg.refund_delay_ms[0] > cfg.refund_delay_ms[1]) {
    throw new ConfigError('refund_delay_ms must be [min, max]: integers 0..600000, min <= max');
  }
  if (cfg.amount_min > cfg.amount_max) {
    throw new ConfigError('amount_min must not exceed amount_max');
  }
  if (typeof cfg.payment_dead_letters_ok !== 'boolean') {
    throw new ConfigError('payment_dead_letters_ok must be true or false');
  }
  if (typeof cfg.cluster !== 'boolean') {
    throw new ConfigError('cluster must be true or false');
  }
  if (!Array.isArray(cfg.node_args) || cfg.node_args.some((a) => typeof a !== 'string'
      || !a.startsWith('--'))) {
    throw new ConfigError('node_args must be a list of "--flag=value" strings');
  }
  if (typeof cfg.node_env !== 'object' || Array.isArray(cfg.node_env)
      || Object.entries(cfg.node_env).some(([k, v]) => !/^[A-Z_][A-Z0-9_]*$/.test(k)
        || typeof v !== 'string')) {
    throw new ConfigError('node_env must map NAME to a string value');
  }
  if (!Array.isArray(cfg.replay_dead_letters)
      || cfg.replay_dead_letters.some((k) => k !== 'webhook' && k !== 'payment')) {
    throw new ConfigError('replay_dead_letters must be a list of "webhook" / "payment"');
  }
  if (cfg.expect_violation !== null && !INVARIANTS.includes(cfg.expect_violation)) {
    throw new ConfigError(`expect_violation must be one of ${INVARIANTS.join(', ')}`);
  }
  if (cfg.expect_violation?.startsWith('refund') && !(cfg.refund_share > 0)) {
    throw new ConfigError(`expect_violation "${cfg.expect_violation}" is only checked with `
      + 'refund_share above 0');
  }
  if (cfg.expect_violation === 'abandoned_sessions_expired' && !(cfg.abandon_share > 0)) {
    throw new ConfigError('expect_violation "abandoned_sessions_expired" is only checked '
      + 'with abandon_share above 0');
  }
  if (!Array.isArray(cfg.faults)) {
    throw new ConfigError(`faults must be a list (kinds: ${FAULT_KINDS.join(', ')})`);
  }
  try {
    cfg.schedule = expandSchedule(cfg.faults, cfg.nodes);
  } catch (err) {
    throw new ConfigError(err.message);
  }
  if (!cfg.cluster && cfg.schedule.some((e) => e.kind === 'partition')) {
    throw new ConfigError('a partition needs "cluster": true (the nodes must form a cluster)');
  }
  if (cfg.nodes < 2 && cfg.schedule.some((e) => e.kind === 'partition')) {
    throw new ConfigError('a partition needs "nodes": 2 or more (one node has no peer to '
      + 'be cut off from)');
  }
  const lastEntry = cfg.schedule[cfg.schedule.length - 1];
  if (lastEntry && lastEntry.at > cfg.max_duration_s) {
    // The entry may be one a "duration" made: say which fault it ends.
    throw new ConfigError(`${lastEntry.kind}${lastEntry.note ? ` (${lastEntry.note})` : ''} `
      + `is scheduled at ${lastEntry.at}s, after max_duration_s (${cfg.max_duration_s}s)`);
  }
  return cfg;
}
