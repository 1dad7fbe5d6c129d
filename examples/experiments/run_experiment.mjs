#!/usr/bin/env node
// Fault-injection experiment runner: starts a local PSP cluster in its own
// run folder, drives checkouts through the public API while injecting the
// experiment's faults, heals everything, waits for the system to settle and
// checks that no payment was lost or charged twice (and three more
// invariants). Writes result.json and report.html; exit status 0 only when
// every invariant holds (or, for an experiment with "expect_violation",
// only when that invariant was indeed violated).
//
//   node run_experiment.mjs EXPERIMENT.json [--run-dir DIR] [--binaries BUILD_DIR]
//                           [--port-base N]
//   node run_experiment.mjs EXPERIMENT.json --dry-run   (check the file, print the schedule)
//   node run_experiment.mjs --render RUN_FOLDER          (report.html and summary again from
//                                                         result.json)
//
// Exit status: 0 pass, 1 an invariant failed (or the expected violation did
// not show), 2 bad arguments or experiment file, 3 the run itself broke
// (stack did not start, settle reads failed).

import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync,
  writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadExperiment } from './config.mjs';
import { FaultInjector, faultLabel } from './faults.mjs';
import { closeAgents, form, sleep } from './http.mjs';
import { apiCall, checkInvariants, collectEvidence, cutNodesStopWork, deadLetters, mapLimit,
  replayDeadLetters, scrapeMetrics } from './invariants.mjs';
import { Load } from './load.mjs';
import { Receiver } from './receiver.mjs';
import { buildSeries, loadFigures, renderHtml, terminalSummary, writeOutputs } from './report.mjs';
import { Stack } from './stack.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

function usage(msg) {
  if (msg) {
    process.stderr.write(`run_experiment: ${msg}\n`);
  }
  process.stderr.write('usage: node run_experiment.mjs EXPERIMENT.json [--run-dir DIR] '
    + '[--binaries BUILD_DIR] [--port-base N] [--dry-run]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const out = { runDir: path.join(repo, 'run', 'experiments'), binaries: path.join(repo, 'build') };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (name) => {
      if (a.includes('=')) {
        return a.slice(a.indexOf('=') + 1);
      }
      if (i + 1 >= argv.length) {
        usage(`${name} needs a value`);
      }
      return argv[++i];
    };
    if (a === '--run-dir' || a.startsWith('--run-dir=')) {
      out.runDir = path.resolve(value('--run-dir'));
    } else if (a === '--binaries' || a.startsWith('--binaries=')) {
      out.binaries = path.resolve(value('--binaries'));
    } else if (a === '--port-base' || a.startsWith('--port-base=')) {
      // Two runs side by side: the file's port_base, moved.
      const text = value('--port-base');
      out.portBase = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
      if (!(out.portBase >= 1024 && out.portBase <= 64_000)) {
        usage('--port-base must be a port from 1024 to 64000');
      }
    } else if (a === '--render' || a.startsWith('--render=')) {
      out.render = path.resolve(value('--render'));
    } else if (a === '--dry-run') {
      out.dryRun = true;
    } else if (a === '-h' || a === '--help') {
      usage();
    } else if (a.startsWith('-')) {
      usage(`unknown option ${a}`);
    } else {
      rest.push(a);
    }
  }
  if (out.render && rest.length === 0) {
    return out;
  }
  if (rest.length !== 1) {
    usage('exactly one experiment file is needed');
  }
  out.file = path.resolve(rest[0]);
  return out;
}

function binariesIn(dir) {
  const b = {
    node: process.env.PSP_NODE_BINARY ?? path.join(dir, 'runtime', 'psp-node'),
    admin: process.env.PSP_ADMIN_BINARY ?? path.join(dir, 'runtime', 'psp-admin'),
    sim: process.env.CARD_SIM_BINARY
      ?? path.join(dir, 'examples', 'card_network_sim', 'card-network-sim'),
  };
  for (const [name, file] of Object.entries(b)) {
    if (!existsSync(file)) {
      throw new ConfigError(`${name} binary ${file} is missing (build it, or pass --binaries)`);
    }
  }
  return b;
}

function stamp(d = new Date()) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}`
    + `${p(d.getMinutes())}${p(d.getSeconds())}`;
}

// ---- progress line -------------------------------------------------------------

class Progress {
  constructor() {
    this.tty = process.stderr.isTTY;
    this.shown = false;
    this.lastPrint = 0;
  }

  /** A message on its own line (the progress line is redrawn after it). */
  log(msg) {
    this.clear();
    process.stderr.write(`${msg}\n`);
  }

  clear() {
    if (this.tty && this.shown) {
      process.stderr.write('\r\x1b[2K');
      this.shown = false;
    }
  }

  line(text) {
    if (this.tty) {
      const cols = process.stderr.columns || 120;
      process.stderr.write(`\r\x1b[2K${text.slice(0, cols - 1)}`);
      this.shown = true;
    } else if (Date.now() - this.lastPrint >= 5000) {
      process.stderr.write(`${text}\n`);
      this.lastPrint = Date.now();
    }
  }
}

// ---- main ------------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.render) {
    const res = JSON.parse(readFileSync(path.join(args.render, 'result.json'), 'utf8'));
    writeFileSync(path.join(args.render, 'report.html'), renderHtml(res));
    process.stdout.write(`${terminalSummary(res)}\n`);
    return 0;
  }
  let cfg;
  let binaries;
  try {
    cfg = loadExperiment(args.file);
    if (args.portBase !== undefined) {
      cfg.port_base = args.portBase;
    }
    if (args.dryRun) {
      process.stdout.write(`${cfg.name}: ${cfg.payments} checkouts, ${cfg.nodes} nodes, `
        + `concurrency ${cfg.concurrency}${cfg.rate_per_s ? `, ${cfg.rate_per_s}/s` : ''}\n`);
      for (const e of cfg.schedule) {
        process.stdout.write(`  ${String(e.at).padStart(6)}s  ${faultLabel(e)}\n`);
      }
      return 0;
    }
    binaries = binariesIn(args.binaries);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`run_experiment: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const runId = stamp();
  const dir = path.join(args.runDir, `${cfg.name}-${runId}`);
  mkdirSync(dir, { recursive: true });
  copyFileSync(args.file, path.join(dir, 'experiment.json'));
  try {
    const latest = path.join(args.runDir, `${cfg.name}-latest`);
    rmSync(latest, { force: true });
    symlinkSync(path.basename(dir), latest);
  } catch {
    // a convenience only
  }

  const progress = new Progress();
  const log = (msg) => progress.log(`[${clock().toFixed(1).padStart(6)}s] ${msg}`);
  let t0 = null;
  function clock() {
    return t0 === null ? 0 : (Date.now() - t0) / 1000;
  }
  const startedAt = new Date();
  const stack = new Stack({ dir, binaries, nodes: cfg.nodes, nodeArgs: cfg.node_args,
    nodeEnv: cfg.node_env, portBase: cfg.port_base, cluster: cfg.cluster, clock });
  const receiver = new Receiver({ clock });
  const load = new Load({ cfg, stack, clock, runId: `${runId}_${process.pid}` });
  const injector = new FaultInjector({ stack, receiver, clock });
  const samples = [];
  const settle = [];
  let replay = { found: 0, webhookEvents: [], payments: [], results: [] };
  let invariants = [];
  let fatal = null;
  let stopping = false;
  let loadEnd = null;
  let clusterEvents = [];

  const cleanup = async () => {
    stopping = true;
    progress.clear();
    await stack.stop().catch((err) => process.stderr.write(`stop: ${err.message}\n`));
    await receiver.stop().catch(() => {});
    closeAgents();
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      process.stderr.write(`\nrun_experiment: ${sig}: stopping the cluster\n`);
      cleanup().finally(() => process.exit(130));
    });
  }

  // Samples /metrics and redraws the progress line until stopped.
  let sampling = true;
  let seenIncidents = 0;
  let phase = 'starting';
  const sampler = (async () => {
    while (sampling) {
      const tick = Date.now();
      if (t0 !== null) {
        const metrics = await scrapeMetrics(stack, Math.min(900, cfg.metrics_interval_ms));
        const pr = load.progress();
        samples.push({ t: clock(), metrics, ...pr });
        while (seenIncidents < stack.incidents.length) {
          const x = stack.incidents[seenIncidents++];
          log(`WARNING: ${x.process} ${x.what}`);
        }
        const last = injector.timeline[injector.timeline.length - 1];
        const m = metrics ?? {};
        progress.line(`[${clock().toFixed(1).padStart(6)}s] ${phase} | payments `
          + `${pr.complete} done/${pr.submitted} submitted/${pr.started} started of `
          + `${cfg.payments}, ${pr.inFlight} in flight | `
          + `faults ${injector.injected}${last ? ` (last: ${last.label})` : ''} | `
          + `pending ${m.psp_payment_stream_pending ?? '?'} webhooks `
          + `${m.psp_webhook_deliveries_scheduled ?? '?'} dead ${m.psp_dead_letters ?? '?'}`);
      }
      await sleep(Math.max(50, cfg.metrics_interval_ms - (Date.now() - tick)));
    }
  })();

  try {
    progress.log(`experiment ${cfg.name}: ${cfg.payments} checkouts, ${cfg.nodes} nodes, `
      + `${cfg.schedule.length} fault entries; run folder ${dir}`);
    await receiver.start();
    await stack.start();
    progress.log(`cluster up: redis :${stack.redisPort}, card network :${stack.sim.port}, `
      + `nodes ${stack.nodes.map((n) => `:${n.port}`).join(' ')}, receiver :${receiver.port}`);
    const ep = await apiCall(stack, '/v1/webhook_endpoints', { method: 'POST',
      body: form([['url', receiver.url], ['enabled_events[0]', '*']]) });
    if (ep.status !== 200 || !ep.json?.secret) {
      throw new Error(`POST /v1/webhook_endpoints: HTTP ${ep.status} ${ep.body.slice(0, 200)}`);
    }
    receiver.secret = ep.json.secret;

    // ---- load + faults ------------------------------------------------------------
    t0 = Date.now();
    phase = 'load';
    const schedule = (async () => {
      for (const e of cfg.schedule) {
        while (clock() < e.at && !stopping) {
          await sleep(Math.min(250, (e.at - clock()) * 1000));
        }
        if (stopping) {
          return;
        }
        const r = await injector.apply(e);
        log(`fault ${injector.timeline.length}: ${faultLabel(e)} `
          + `${r.ok ? `(${r.ms} ms)` : `FAILED: ${r.error.split('\n')[0]}`}`);
      }
    })();
    await Promise.all([load.run(cfg.max_duration_s).then(() => {
      loadEnd = clock();
      log(`load finished: ${load.progress().complete} of ${load.payments.length} paid`);
    }), schedule]);

    // ---- heal + settle ----------------------------------------------------------------
    phase = 'heal';
    for (const r of await injector.healAll()) {
      log(`heal: ${r.label} ${r.ok ? 'ok' : `FAILED: ${r.error.split('\n')[0]}`}`);
    }
    phase = 'settle';
    settle.push(await settleDown({ stack, load, receiver, cfg, clock, log, phaseName: 'after heal' }));
    phase = 'replay';
    replay = await replayDeadLetters(stack, cfg.replay_dead_letters, log);
    phase = 'settle';
    settle.push(await settleDown({ stack, load, receiver, cfg, clock, log,
      phaseName: 'after replay', expectEvents: replay.webhookEvents }));

    // ---- check ------------------------------------------------------------------------
    phase = 'check';
    const evidence = await collectEvidence({ stack, load, log });
    invariants = checkInvariants(evidence, { load, receiver, replay });
  } catch (err) {
    fatal = err;
    progress.log(`run_experiment: the run broke: ${err.stack ?? err.message}`);
  } finally {
    sampling = false;
    await sampler;
    try {
      clusterEvents = stack.clusterEvents(); // before the shutdown adds its own
    } catch {
      // the logs are evidence, not a verdict
    }
    await cleanup();
  }

  // ---- verdict + outputs ------------------------------------------------------------
  if (invariants.length && cfg.nodes >= 3
      && cfg.schedule.some((e) => e.kind === 'partition')) {
    // From the logs, read above once the nodes had stopped working.
    invariants.push(cutNodesStopWork(injector.timeline, clusterEvents));
  }
  const end = Math.max(clock(), 1);
  const failed = invariants.filter((r) => !r.pass).map((r) => r.name);
  let verdict;
  let reason;
  let code;
  if (fatal || invariants.length === 0) {
    verdict = 'error';
    code = 3;
    reason = `the run broke before the invariants could be checked: ${fatal?.message}`;
  } else if (cfg.expect_violation) {
    const hit = failed.includes(cfg.expect_violation);
    verdict = hit ? 'pass' : 'fail';
    code = hit ? 0 : 1;
    reason = hit ? `${cfg.expect_violation} was violated, as this experiment expects `
      + `(the checker can fail)${failed.length > 1 ? `; also failed: ${failed
        .filter((n) => n !== cfg.expect_violation).join(', ')}` : ''}`
      : `expected ${cfg.expect_violation} to be violated, but it held: the checker missed `
        + 'a broken guarantee';
  } else {
    verdict = failed.length ? 'fail' : 'pass';
    code = failed.length ? 1 : 0;
    reason = failed.length ? `violated: ${failed.join(', ')}` : 'every invariant holds';
  }
  const figures = loadFigures(load, loadEnd ?? end);
  const res = {
    experiment: { ...cfg, schedule: undefined, file: args.file },
    run_dir: dir,
    started_at: startedAt.toISOString(),
    duration_s: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
    timeline_end_s: Math.round(end * 10) / 10,
    verdict,
    verdict_reason: reason,
    exit_code: code,
    expect_violation: cfg.expect_violation,
    error: fatal ? fatal.message : null,
    processes: stack.describe(),
    partition_proxy: stack.proxy ? stack.proxy.stats() : null,
    cluster_events: clusterEvents,
    load: figures,
    webhooks: { distinct_events: receiver.events.size, deliveries: receiver.deliveries,
      duplicate_deliveries: receiver.duplicates, refused: receiver.refused,
      bad_signatures: receiver.badSignatures.length },
    faults: injector.timeline,
    incidents: stack.incidents,
    settle,
    dead_letters: { found_before_replay: replay.found, replayed: replay.results },
    invariants,
    payments_not_complete: load.payments.filter((p) => p.state !== 'complete').slice(0, 200)
      .map((p) => ({ i: p.i, session: p.session, intent: p.intent, state: p.state,
        errors: p.errors })),
    series: buildSeries(load, samples, receiver, end),
  };
  writeOutputs(dir, res, load, receiver);
  process.stdout.write(`${terminalSummary(res)}\n`);
  return code;
}

/**
 * Waits (bounded) until every owed payment is terminal (complete, or
 * dead-lettered), the payment stream is empty with nothing pending, the
 * webhook schedule is drained, and the receiver has every event in
 * `expectEvents`.
 */
async function settleDown({ stack, load, receiver, cfg, clock, log, phaseName,
  expectEvents = [] }) {
  const started = Date.now();
  const deadline = started + cfg.settle_timeout_s * 1000;
  let last = '';
  for (const p of load.payments) {
    p.settled = false; // a replayed payment dead letter may move again
  }
  for (;;) {
    const why = [];
    const m = await scrapeMetrics(stack);
    if (!m) {
      why.push('no node answers /metrics');
    } else {
      if (m.psp_payment_stream_pending !== 0) {
        why.push(`payment stream pending ${m.psp_payment_stream_pending}`);
      }
      if (m.psp_payment_stream_length !== 0) {
        why.push(`payment stream length ${m.psp_payment_stream_length}`);
      }
      if (m.psp_webhook_deliveries_scheduled !== 0) {
        why.push(`webhooks scheduled ${m.psp_webhook_deliveries_scheduled}`);
      }
    }
    const open = load.payments.filter((p) => p.session && p.state !== 'complete'
      && !p.settled);
    if (open.length) {
      let dead = new Set();
      try {
        dead = new Set((await deadLetters(stack)).all.filter((d) => d.kind === 'payment')
          .map((d) => d.intent));
      } catch {
        why.push('dead letters unreadable');
      }
      let processing = 0;
      let notExpired = 0;
      await mapLimit(open, 16, async (p) => {
        if (p.abandoned) {
          // Stored as expired by the PSP's sweep (the hosted page's status
          // says so at once; the API only once it is done).
          let doc = null;
          try {
            doc = (await apiCall(stack, `/v1/checkout/sessions/${p.session}`, { tries: 1 })).json;
          } catch {
            // no node answers right now
          }
          if (doc?.status === 'expired') {
            p.settled = true;
          } else {
            notExpired++;
          }
          return;
        }
        const st = await load.sessionStatus(p);
        if (!st) {
          processing++;
          return;
        }
        if (st.doc?.status === 'complete') {
          // Found complete by the settle phase: the shopper had stopped
          // waiting, so there is no latency figure for it.
          p.state_before_settle = p.state;
          p.state = 'complete';
          p.late = true;
          p.t_done = clock();
        } else if (st.doc?.intent_status === 'processing' && !dead.has(p.intent)) {
          processing++;
        } else {
          p.settled = true; // open (abandoned / declined), expired, or dead-lettered
        }
      });
      if (processing) {
        why.push(`${processing} payment(s) still processing`);
      }
      if (notExpired) {
        why.push(`${notExpired} abandoned session(s) not expired yet`);
      }
    }
    const missing = expectEvents.filter((id) => !receiver.events.has(id));
    if (missing.length) {
      why.push(`${missing.length} replayed event(s) not received yet`);
    }
    if (!why.length) {
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      log(`settled (${phaseName}) in ${seconds}s`);
      return { phase: phaseName, ok: true, seconds, last: '', at: clock() };
    }
    last = why.join(', ');
    if (Date.now() > deadline) {
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      log(`NOT settled (${phaseName}) after ${seconds}s: ${last}`);
      return { phase: phaseName, ok: false, seconds, last, at: clock() };
    }
    await sleep(500);
  }
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`run_experiment: ${err.stack ?? err.message}\n`);
  process.exit(3);
});
