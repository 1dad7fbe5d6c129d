// What a run produced, in three forms: result.json (everything, machine
// readable), report.html (self-contained: inline SVG plots over time with the
// faults marked, tables of invariants and faults) and a terminal summary.

import { writeFileSync } from 'node:fs';
import path from 'node:path';

// ---- figures ----------------------------------------------------------------

export function percentile(sorted, q) {
  if (!sorted.length) {
    return null;
  }
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx];
}

/** Latency and throughput figures of the load. */
export function loadFigures(load, loadEnd) {
  // The checkouts' phase: refunds of the last payments may run on after it.
  const loadSeconds = Math.min(loadEnd, load.checkoutsDoneAt ?? loadEnd);
  const ps = load.payments;
  const lat = ps.filter((p) => p.latency_ms !== null).map((p) => p.latency_ms)
    .sort((a, b) => a - b);
  const count = (pred) => ps.filter(pred).length;
  const mean = lat.length ? Math.round(lat.reduce((a, b) => a + b, 0) / lat.length) : null;
  return {
    planned: load.cfg.payments,
    started: ps.length,
    sessions_created: count((p) => p.session),
    submitted: count((p) => p.t_ack !== null),
    completed_in_time: count((p) => p.state === 'complete' && !p.late),
    completed_late: count((p) => p.state === 'complete' && p.late),
    declined_first_try: count((p) => p.attempts.length > 1),
    not_complete: count((p) => p.state !== 'complete'),
    create_failed: count((p) => p.state === 'create_failed'),
    pay_failed: count((p) => (p.state_before_settle ?? p.state) === 'pay_failed'),
    requests: load.counts.requests,
    retries: load.counts.retries,
    no_answer: load.counts.no_answer,
    answers_5xx: load.counts.status_5xx,
    answers_409: load.counts.status_409,
    duplicates_sent: load.counts.duplicates_sent,
    load_seconds: round(loadSeconds, 1),
    payments_per_s: loadSeconds > 0 ? round(count((p) => p.state === 'complete') / loadSeconds, 1)
      : null,
    latency_ms: { p50: percentile(lat, 0.5), p90: percentile(lat, 0.9),
      p99: percentile(lat, 0.99), max: lat.length ? lat[lat.length - 1] : null, mean },
    refunds: load.cfg.refund_share > 0 ? refundFigures(load, loadEnd) : null,
  };
}

/** Refund counts: asked, answered, final status (as the checker read it), retried. */
export function refundFigures(load, loadEnd) {
  const rs = load.refunds;
  const count = (pred) => rs.filter(pred).length;
  const sent = rs.map((r) => r.t_sent).filter((t) => t !== null);
  // The last scheduled fault event (an injection or its end).
  const faultsEnd = Math.max(0, ...(load.cfg.schedule ?? []).map((e) => e.at
    + (e.kind === 'pause_redis' ? e.ms / 1000 : 0)));
  return {
    asked: rs.length,
    answered: count((r) => r.id),
    succeeded: count((r) => r.final_status === 'succeeded'),
    failed: count((r) => r.final_status === 'failed'),
    other_status: count((r) => r.final_status && r.final_status !== 'succeeded'
      && r.final_status !== 'failed'),
    refused: count((r) => r.state === 'refused'),
    gave_up: count((r) => r.state === 'gave_up' || r.state === 'error'),
    retried: count((r) => r.retries > 0),
    retries: rs.reduce((a, r) => a + r.retries, 0),
    duplicates_sent: load.counts.refund_duplicates_sent ?? 0,
    payment_archived_when_sent: count((r) => r.payment_archived === true),
    faults_end_s: faultsEnd,
    load_end_s: load.done ? round(loadEnd, 1) : null,
    sent_before_faults_end: count((r) => r.t_sent !== null && r.t_sent <= faultsEnd),
    first_sent_s: sent.length ? round(Math.min(...sent), 1) : null,
    last_sent_s: sent.length ? round(Math.max(...sent), 1) : null,
  };
}

/** One line per refund for the terminal and the report. */
function refundLine(F) {
  return `${F.asked} asked, ${F.answered} answered 200 (${F.succeeded} succeeded, `
    + `${F.failed} failed${F.other_status ? `, ${F.other_status} other` : ''}), `
    + `${F.refused} refused, ${F.gave_up} gave up; ${F.payment_archived_when_sent} sent when `
    + `the payment was archived; ${F.retried} retried `
    + `(${F.retries} retries), ${F.duplicates_sent} sent twice; sent from `
    + `${F.first_sent_s ?? '–'}s to ${F.last_sent_s ?? '–'}s, ${F.sent_before_faults_end} `
    + `before the last fault event (${F.faults_end_s}s)${F.load_end_s !== null
      ? `; the load with its refunds ended at ${F.load_end_s}s` : ''}`;
}

function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Time series in buckets of `step` seconds over [0, end]. */
export function buildSeries(load, samples, receiver, end) {
  const step = Math.max(1, Math.ceil(end / 240));
  const n = Math.max(1, Math.ceil(end / step));
  const t = Array.from({ length: n }, (_, i) => (i + 0.5) * step);
  const done = new Array(n).fill(0);
  const submitted = new Array(n).fill(0);
  const lats = Array.from({ length: n }, () => []);
  for (const p of load.payments) {
    if (p.t_ack !== null) {
      const b = Math.min(n - 1, Math.floor(p.t_ack / step));
      submitted[b]++;
    }
    if (p.t_done !== null && p.state === 'complete' && !p.late) {
      const b = Math.min(n - 1, Math.floor(p.t_done / step));
      done[b]++;
      if (p.latency_ms !== null) {
        lats[b].push(p.latency_ms);
      }
    }
  }
  const hooks = new Array(n).fill(0);
  receiver.perSecond.forEach((v, sec) => {
    if (v) {
      hooks[Math.min(n - 1, Math.floor(sec / step))] += v;
    }
  });
  const p50 = lats.map((l) => percentile(l.sort((a, b) => a - b), 0.5));
  const p99 = lats.map((l) => percentile(l, 0.99));
  const metric = (name) => samples.map((s) => [s.t, s.metrics ? s.metrics[name] ?? null : null]);
  return {
    step_s: step,
    t,
    payments_per_s: done.map((v) => v / step),
    submitted_per_s: submitted.map((v) => v / step),
    latency_p50_ms: p50,
    latency_p99_ms: p99,
    webhooks_per_s: hooks.map((v) => v / step),
    stream_pending: metric('psp_payment_stream_pending'),
    stream_length: metric('psp_payment_stream_length'),
    webhooks_scheduled: metric('psp_webhook_deliveries_scheduled'),
    dead_letters: metric('psp_dead_letters'),
  };
}

// ---- SVG charts ---------------------------------------------------------------

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;',
  '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function niceStep(max, ticks) {
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const r = raw / mag;
  return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10) * mag;
}

function fmtNum(v) {
  if (Math.abs(v) >= 10000) {
    return `${Math.round(v / 1000)}k`;
  }
  if (Math.abs(v) >= 1000) {
    return `${round(v / 1000, 1)}k`;
  }
  return String(round(v, 2));
}

/**
 * One line chart. series: [{name, color, points: [[t, y|null]], dash}];
 * marks: [{t, n, color, dash}]; spans: [{from, to, color}].
 */
function chart({ title, unit, series, xMax, marks, spans, logY = false }) {
  const W = 960;
  const H = 262;
  const L = 58;
  const R = 16;
  const T = 62;
  const B = 34;
  const pw = W - L - R;
  const ph = H - T - B;
  let yMax = 0;
  for (const s of series) {
    for (const [, y] of s.points) {
      if (y !== null && Number.isFinite(y)) {
        yMax = Math.max(yMax, y);
      }
    }
  }
  const yStep = niceStep(yMax > 0 ? yMax : 1, 4);
  const yTop = Math.max(yStep, Math.ceil((yMax > 0 ? yMax : 1) / yStep) * yStep);
  // Log scale: decades from 1 to the first power of ten above the maximum.
  const decades = Math.max(1, Math.ceil(Math.log10(Math.max(yMax, 10))));
  const xStep = niceStep(xMax, 10);
  const X = (t) => L + (Math.min(Math.max(t, 0), xMax) / xMax) * pw;
  const Y = logY ? (y) => T + ph - (Math.log10(Math.max(y, 1)) / decades) * ph
    : (y) => T + ph - (y / yTop) * ph;
  const yTicks = [];
  if (logY) {
    for (let d = 0; d <= decades; d++) {
      yTicks.push(10 ** d);
    }
  } else {
    for (let y = 0; y <= yTop + 1e-9; y += yStep) {
      yTicks.push(y);
    }
  }
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" `
    + `width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`];
  out.push(`<text x="${L}" y="18" class="ct">${esc(title)}</text>`);
  for (const sp of spans) {
    const x1 = X(sp.from);
    const x2 = X(sp.to);
    out.push(`<rect x="${x1.toFixed(1)}" y="${T}" width="${Math.max(1, x2 - x1).toFixed(1)}" `
      + `height="${ph}" fill="${sp.color}" opacity="0.13"/>`);
  }
  for (const y of yTicks) {
    out.push(`<line x1="${L}" x2="${L + pw}" y1="${Y(y).toFixed(1)}" y2="${Y(y).toFixed(1)}" `
      + 'class="grid"/>');
    out.push(`<text x="${L - 6}" y="${(Y(y) + 4).toFixed(1)}" class="yl">${fmtNum(y)}</text>`);
  }
  for (let x = 0; x <= xMax + 1e-9; x += xStep) {
    out.push(`<line x1="${X(x).toFixed(1)}" x2="${X(x).toFixed(1)}" y1="${T + ph}" `
      + `y2="${T + ph + 4}" class="axis"/>`);
    out.push(`<text x="${X(x).toFixed(1)}" y="${T + ph + 16}" class="xl">${fmtNum(x)}s</text>`);
  }
  out.push(`<text x="14" y="${T + ph / 2}" class="unit" transform="rotate(-90 14 ${T + ph / 2})">`
    + `${esc(unit)}</text>`);
  out.push(`<rect x="${L}" y="${T}" width="${pw}" height="${ph}" class="frame"/>`);
  // Fault numbers above the plot, on up to three rows so close ones do not
  // overlap.
  const rowEnds = [-Infinity, -Infinity, -Infinity];
  for (const m of marks) {
    const xv = X(m.t);
    const x = xv.toFixed(1);
    const w = 6 * String(m.n).length + 4;
    let row = rowEnds.findIndex((end) => xv - w / 2 > end);
    if (row < 0) {
      row = rowEnds.indexOf(Math.min(...rowEnds));
    }
    rowEnds[row] = xv + w / 2;
    out.push(`<line x1="${x}" x2="${x}" y1="${T}" y2="${T + ph}" stroke="${m.color}" `
      + `stroke-width="1.3"${m.dash ? ' stroke-dasharray="4 3"' : ''}/>`);
    out.push(`<text x="${x}" y="${T - 3 - row * 10}" class="mk" fill="${m.color}">${m.n}</text>`);
  }
  for (const s of series) {
    let d = '';
    let pen = false;
    for (const [t, y] of s.points) {
      if (y === null || !Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${X(t).toFixed(1)},${Y(y).toFixed(1)}`;
      pen = true;
    }
    if (d) {
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8" `
        + `stroke-linejoin="round"${s.dash ? ' stroke-dasharray="5 3"' : ''}/>`);
    }
  }
  let lx = L + pw;
  const legend = [];
  for (const s of [...series].reverse()) {
    const w = 34 + s.name.length * 7.2;
    lx -= w;
    legend.push(`<line x1="${lx.toFixed(1)}" x2="${(lx + 18).toFixed(1)}" y1="26" y2="26" `
      + `stroke="${s.color}" stroke-width="3"${s.dash ? ' stroke-dasharray="5 3"' : ''}/>`
      + `<text x="${(lx + 22).toFixed(1)}" y="30" class="lg">${esc(s.name)}</text>`);
  }
  out.push(...legend);
  out.push('</svg>');
  return out.join('\n');
}

/** Vertical marks and shaded spans for the fault timeline. */
function faultMarks(timeline, end) {
  const marks = [];
  const spans = [];
  const open = new Map(); // what -> start t
  const keyOf = (r) => {
    switch (r.kind) {
      case 'kill_node': case 'restart_node': return `node-${r.node}-down`;
      case 'pause_node': case 'resume_node': return `node-${r.node}-paused`;
      case 'partition': case 'heal_partition': return `node-${r.node}-partitioned`;
      case 'kill_redis': case 'restart_redis': return 'redis-down';
      case 'card_network': case 'card_network_reset': return 'card';
      case 'webhook': return 'webhook';
      default: return r.kind;
    }
  };
  const colorOf = (r) => (r.kind.includes('redis') ? '#b45309'
    : r.kind.includes('card') ? '#7c3aed' : r.kind === 'webhook' ? '#0e7490'
      : r.kind.includes('partition') ? '#db2777' : '#dc2626');
  timeline.forEach((r, i) => {
    if (!r.ok && r.phase !== 'heal') {
      marks.push({ t: r.t, n: i + 1, color: '#6b7280', dash: true });
      return;
    }
    marks.push({ t: r.t, n: i + 1, color: colorOf(r), dash: !r.injection });
    const k = keyOf(r);
    if (r.kind === 'pause_redis') {
      spans.push({ from: r.t, to: r.t + r.pause_ms / 1000, color: colorOf(r) });
    } else if (r.injection) {
      if (!open.has(k)) {
        open.set(k, { t: r.t, color: colorOf(r) });
      }
    } else if (open.has(k)) {
      spans.push({ from: open.get(k).t, to: r.t, color: open.get(k).color });
      open.delete(k);
    }
  });
  for (const o of open.values()) {
    spans.push({ from: o.t, to: end, color: o.color });
  }
  return { marks, spans };
}

// ---- HTML ---------------------------------------------------------------------

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#111827;margin:0;
background:#f3f4f6}
main{max-width:1000px;margin:0 auto;padding:20px 20px 60px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#4b5563;margin:0 0 14px}
.badge{display:inline-block;padding:3px 10px;border-radius:4px;font-weight:700;color:#fff;
font-size:14px;vertical-align:middle;margin-left:8px}
.pass{background:#15803d}.fail{background:#b91c1c}.warn{background:#b45309}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0}
td,th{border:1px solid #e5e7eb;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f9fafb;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#15803d;font-weight:700}.bad{color:#b91c1c;font-weight:700}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:8px 8px 2px;
margin:10px 0}
svg{display:block;max-width:100%;height:auto}
svg .ct{font-weight:600;font-size:13px;fill:#111827}
svg .grid{stroke:#e5e7eb;stroke-width:1}svg .axis{stroke:#9ca3af}
svg .frame{fill:none;stroke:#9ca3af}
svg .yl{font-size:11px;fill:#4b5563;text-anchor:end}
svg .xl{font-size:11px;fill:#4b5563;text-anchor:middle}
svg .unit{font-size:11px;fill:#4b5563;text-anchor:middle}
svg .lg{font-size:12px;fill:#374151}
svg .mk{font-size:10px;font-weight:700;text-anchor:middle}
details{margin:2px 0}summary{cursor:pointer;color:#1d4ed8}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
pre{white-space:pre-wrap;word-break:break-word;background:#fff;border:1px solid #e5e7eb;padding:8px}
ul.v{margin:4px 0;padding-left:18px}ul.v li{margin:1px 0}
.kv td:first-child{width:240px;color:#374151}
`;

function kvTable(rows) {
  return `<table class="kv">${rows.map(([k, v]) => `<tr><td>${esc(k)}</td>`
    + `<td>${v}</td></tr>`).join('')}</table>`;
}

export function renderHtml(res) {
  const s = res.series;
  const end = res.timeline_end_s;
  const { marks, spans } = faultMarks(res.faults, end);
  const zip = (ys) => s.t.map((t, i) => [t, ys[i]]);
  const charts = [
    chart({ title: 'Payments per second', unit: 'payments/s', xMax: end, marks, spans,
      series: [
        { name: 'completed', color: '#2563eb', points: zip(s.payments_per_s) },
        { name: 'submitted', color: '#9ca3af', points: zip(s.submitted_per_s), dash: true },
      ] }),
    chart({ title: 'Latency, card submitted → session complete (payments completing in each '
      + `${s.step_s}s bucket; log scale)`, unit: 'ms', xMax: end, marks, spans, logY: true,
    series: [
      { name: 'p50', color: '#059669', points: zip(s.latency_p50_ms) },
      { name: 'p99', color: '#dc2626', points: zip(s.latency_p99_ms) },
    ] }),
    chart({ title: 'Payment queue (from /metrics)', unit: 'entries', xMax: end, marks, spans,
      series: [
        { name: 'stream entries pending at a node', color: '#d97706', points: s.stream_pending },
        { name: 'stream length', color: '#7c3aed', points: s.stream_length, dash: true },
      ] }),
    chart({ title: 'Webhook queue and dead letters (from /metrics)', unit: 'entries', xMax: end,
      marks, spans,
      series: [
        { name: 'deliveries scheduled', color: '#0e7490', points: s.webhooks_scheduled },
        { name: 'dead letters', color: '#111827', points: s.dead_letters },
      ] }),
    chart({ title: 'Webhook deliveries accepted by the receiver', unit: 'deliveries/s',
      xMax: end, marks, spans,
      series: [{ name: 'accepted', color: '#0e7490', points: zip(s.webhooks_per_s) }] }),
  ];
  const verdict = res.verdict === 'pass' ? '<span class="badge pass">PASS</span>'
    : '<span class="badge fail">FAIL</span>';
  const inv = res.invariants.map((r, i) => {
    const expected = res.expect_violation === r.name;
    const vio = r.violations.length ? `<details${r.pass ? '' : ' open'}><summary>`
      + `${r.violation_count} offending id(s)${r.violation_count > r.violations.length
        ? ` (first ${r.violations.length})` : ''}</summary><ul class="v">${r.violations
        .slice(0, 60).map((v) => `<li><code>${esc(v.id)}</code> ${esc(v.what)}</li>`).join('')}`
      + `${r.violations.length > 60 ? `<li>… ${r.violations.length - 60} more in result.json</li>`
        : ''}</ul></details>` : '';
    return `<tr><td>${i + 1}</td><td>${esc(r.title)}<br><code>${esc(r.name)}</code>`
      + `${expected ? '<br><b>expected to fail</b>' : ''}</td>`
      + `<td class="${r.pass ? 'ok' : 'bad'}">${r.pass ? 'pass' : 'FAIL'}</td>`
      + `<td>${esc(r.summary)}${r.notes.map((n) => `<br><span class="sub">${esc(n)}</span>`)
        .join('')}${vio}</td></tr>`;
  }).join('');
  const L = res.load;
  const lat = L.latency_ms;
  const stats = kvTable([
    ['checkouts planned / started', `${L.planned} / ${L.started}`],
    ['sessions created / card submissions acknowledged',
      `${L.sessions_created} / ${L.submitted}`],
    ['completed (in time / found complete later)', `${L.completed_in_time} / ${L.completed_late}`],
    ['declined first, then paid with 4242', String(L.declined_first_try)],
    ['load phase, completed payments/s', `${L.load_seconds} s, ${L.payments_per_s ?? '–'}/s`],
    ['latency p50 / p90 / p99 / max (ms)',
      `${lat.p50 ?? '–'} / ${lat.p90 ?? '–'} / ${lat.p99 ?? '–'} / ${lat.max ?? '–'}`],
    ['HTTP requests / retries', `${L.requests} / ${L.retries} (no answer ${L.no_answer}, `
      + `5xx ${L.answers_5xx}, 409 ${L.answers_409})`],
    ['deliberate duplicate requests', String(L.duplicates_sent)],
    ...(L.refunds ? [['refunds', esc(refundLine(L.refunds))]] : []),
    ['webhooks', `${res.webhooks.distinct_events} events in ${res.webhooks.deliveries} `
      + `deliveries (${res.webhooks.duplicate_deliveries} duplicates, ${res.webhooks.refused} `
      + 'refused on purpose)'],
    ['dead letters replayed', `${res.dead_letters.replayed.length} (of `
      + `${res.dead_letters.found_before_replay} found)`],
    ['settle', esc(res.settle.map((x) => `${x.phase}: ${x.ok ? 'settled' : 'NOT settled'} in `
      + `${x.seconds}s`).join('; '))],
  ]);
  const faults = res.faults.map((r, i) => `<tr><td class="num">${i + 1}</td>`
    + `<td class="num">${r.at === null ? '–' : `${r.at}s`}</td><td class="num">${r.t.toFixed(2)}s</td>`
    + `<td>${esc(r.label)}${r.phase === 'heal' ? ' <i>(final heal)</i>' : ''}</td>`
    + `<td class="${r.ok ? 'ok' : 'bad'}">${r.ok ? `ok${r.detail ? ` (${esc(r.detail)})` : ''}`
      : esc(`failed: ${r.error}`)}</td>`
    + `<td class="num">${r.ms} ms</td></tr>`).join('');
  const quorumRows = (res.cluster_events ?? []).map((x) => `<tr><td class="num">`
    + `${x.t.toFixed(1)}s</td><td>${esc(x.node)}</td><td>${esc(x.event)}</td>`
    + `<td class="num">${x.reachable} of ${x.registered}</td></tr>`).join('');
  const quorum = quorumRows ? `<h2>Quorum changes</h2><p class="sub">From the node logs: a
node that reaches at most half of the registered members (ties: the half with the smallest
id wins) stops taking payment work until it is back in a majority. Negative times are
before the load started.</p><table><tr><th>t</th><th>node</th><th>event</th>
<th>reachable</th></tr>${quorumRows}</table>` : '';
  const incidents = res.incidents.length ? `<h2>Unexpected process exits</h2><table>`
    + `<tr><th>t</th><th>process</th><th>what</th></tr>${res.incidents.map((x) => `<tr>`
      + `<td class="num">${x.t.toFixed(2)}s</td><td>${esc(x.process)}</td><td>${esc(x.what)}`
      + `<pre class="mono">${esc(x.log_tail)}</pre></td></tr>`).join('')}</table>` : '';
  const cfg = res.experiment;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${esc(cfg.name)}: fault-injection experiment ${res.verdict.toUpperCase()}</title>
<style>${CSS}</style></head><body><main>
<h1>Experiment ${esc(cfg.name)} ${verdict}</h1>
<p class="sub">${esc(cfg.description || '')}<br>${esc(res.started_at)} · ${cfg.nodes} nodes ·
${cfg.payments} checkouts at concurrency ${cfg.concurrency}${cfg.rate_per_s ? `, ≤ ${cfg.rate_per_s}/s`
    : ''} · ${res.faults.filter((f) => f.injection && f.ok).length} faults injected ·
run folder <code>${esc(res.run_dir)}</code>${res.expect_violation
    ? `<br>This experiment breaks a guarantee on purpose and passes only if
<code>${esc(res.expect_violation)}</code> is violated.` : ''}</p>
<h2>Invariants</h2>
<table><tr><th>#</th><th>invariant</th><th>result</th><th>details</th></tr>${inv}</table>
<h2>Over time</h2>
<p class="sub">Numbered vertical lines are the faults in the table below (solid: injected,
dashed: healed); shaded bands show how long each fault lasted. Colours:
<span style="color:#dc2626">nodes</span>, <span style="color:#db2777">partitions</span>,
<span style="color:#b45309">Redis</span>,
<span style="color:#7c3aed">card network</span>,
<span style="color:#0e7490">webhook receiver</span>; grey: a fault that failed to apply.</p>
${charts.map((c) => `<div class="card">${c}</div>`).join('\n')}
<h2>Faults</h2>
<table><tr><th>#</th><th>planned</th><th>applied</th><th>fault</th><th>result</th><th>took</th></tr>
${faults}</table>
${quorum}
<h2>Load</h2>${stats}
${incidents}
<h2>Configuration</h2>
<pre class="mono">${esc(JSON.stringify(cfg, null, 1))}</pre>
</main></body></html>
`;
}

// ---- terminal -----------------------------------------------------------------

export function terminalSummary(res) {
  const L = res.load;
  const lat = L.latency_ms;
  const lines = [];
  lines.push('');
  lines.push(`== experiment ${res.experiment.name}: ${res.verdict.toUpperCase()} `
    + `(${res.duration_s}s, run folder ${res.run_dir}) ==`);
  lines.push(`load: ${L.started}/${L.planned} checkouts, ${L.submitted} card submissions `
    + `acknowledged, ${L.completed_in_time + L.completed_late} complete `
    + `(${L.completed_late} late), ${L.declined_first_try} declined first; `
    + `${L.payments_per_s ?? '–'} payments/s over ${L.load_seconds}s`);
  lines.push(`latency ms: p50 ${lat.p50 ?? '–'}  p90 ${lat.p90 ?? '–'}  p99 ${lat.p99 ?? '–'}  `
    + `max ${lat.max ?? '–'};  requests ${L.requests}, retries ${L.retries} `
    + `(no answer ${L.no_answer}, 5xx ${L.answers_5xx}, 409 ${L.answers_409}), `
    + `${L.duplicates_sent} deliberate duplicates`);
  if (L.refunds) {
    lines.push(`refunds: ${refundLine(L.refunds)}`);
  }
  const inj = res.faults.filter((f) => f.injection);
  const kinds = [...new Set(inj.map((f) => f.kind))];
  lines.push(`faults: ${inj.filter((f) => f.ok).length} injected (${kinds.join(', ')}), `
    + `${res.faults.filter((f) => !f.ok).length} failed to apply, `
    + `${res.faults.filter((f) => f.phase === 'heal').length} heal step(s) at the end`);
  lines.push(`webhooks: ${res.webhooks.distinct_events} events, ${res.webhooks.deliveries} `
    + `deliveries (${res.webhooks.duplicate_deliveries} duplicates), `
    + `${res.dead_letters.replayed.length} dead letters replayed`);
  const quorum = (res.cluster_events ?? []).filter((x) => x.t > 0); // not the start-up
  if (quorum.length) {
    lines.push(`quorum: ${quorum.slice(0, 12).map((x) => `${x.node} ${x.event.replace('quorum_', '')} `
      + `${x.t.toFixed(1)}s (${x.reachable}/${x.registered})`).join(', ')}`
      + `${quorum.length > 12 ? `, … ${quorum.length - 12} more in result.json` : ''}`);
  }
  for (const x of res.settle) {
    lines.push(`settle (${x.phase}): ${x.ok ? 'ok' : 'NOT settled'} after ${x.seconds}s`
      + `${x.ok ? '' : ` — ${x.last}`}`);
  }
  for (const x of res.incidents) {
    lines.push(`WARNING: ${x.process} ${x.what} at ${x.t.toFixed(1)}s`);
  }
  lines.push('invariants:');
  const nameWidth = Math.max(...res.invariants.map((r) => r.name.length));
  res.invariants.forEach((r, i) => {
    const tag = r.pass ? 'pass' : 'FAIL';
    const exp = res.expect_violation === r.name ? ' (expected to fail)' : '';
    lines.push(`  ${i + 1}. ${tag.padEnd(4)} ${r.name.padEnd(nameWidth)} ${r.summary}${exp}`);
    // What passed but needs a look (payments dead-lettered, declines that
    // came too late, ...): in the terminal too, not only in result.json.
    for (const n of r.notes ?? []) {
      lines.push(`       note: ${n}`);
    }
    for (const v of r.violations.slice(0, 5)) {
      lines.push(`       ${v.id}: ${v.what}`);
    }
    if (r.violation_count > 5) {
      lines.push(`       … ${r.violation_count - 5} more in result.json`);
    }
  });
  if (res.error) {
    lines.push(`ERROR: ${res.error}`);
  }
  lines.push(`report: ${path.join(res.run_dir, 'report.html')}`);
  lines.push(`verdict: ${res.verdict_reason}`);
  return lines.join('\n');
}

/** One line per checkout, for digging into a run (times in s from the start). */
export function paymentsCsv(load) {
  const cols = ['i', 'session', 'intent', 'amount', 'state', 'shopper_state', 't_start', 't_created', 't_pay',
    't_ack', 't_done', 'latency_ms', 'attempts', 'retries', 'error'];
  const cell = (v) => (v === null || v === undefined ? ''
    : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3)
      : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const rows = load.payments.map((p) => [p.i, p.session, p.intent, p.amount, p.state,
    p.state_before_settle ?? p.state, p.t_start, p.t_created, p.t_pay, p.t_ack, p.t_done, p.latency_ms,
    p.attempts.map((a) => `${a.card}:${a.outcome}`).join(' '), p.retries, p.errors[0] ?? '']
    .map(cell).join(','));
  return `${cols.join(',')}\n${rows.join('\n')}\n`;
}

/** One line per logical refund (times in s from the start). */
export function refundsCsv(load) {
  const cols = ['i', 'intent', 'key', 'amount', 'paid', 'duplicate', 'payment_archived', 'state',
    'http', 'id',
    'answer_status', 'final_status', 't_paid', 't_sent', 't_answer', 'retries', 'error'];
  const cell = (v) => (v === null || v === undefined ? ''
    : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3)
      : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const rows = load.refunds.map((r) => [r.i, r.intent, r.key, r.amount, r.paid, r.duplicate,
    r.payment_archived, r.state, r.http, r.id, r.status, r.final_status, r.t_paid, r.t_sent,
    r.t_answer, r.retries, r.errors[0] ?? ''].map(cell).join(','));
  return `${cols.join(',')}\n${rows.join('\n')}\n`;
}

/** What the store received: one row per event id, for checks after the run. */
export function webhooksCsv(receiver) {
  const rows = [...receiver.events].map(([id, rec]) => [id, rec.type, rec.object ?? '',
    rec.times.length, rec.times[0]?.toFixed(3) ?? ''].join(','));
  return `event,type,object,deliveries,t_first\n${rows.join('\n')}\n`;
}

export function writeOutputs(dir, res, load, receiver) {
  writeFileSync(path.join(dir, 'result.json'), `${JSON.stringify(res, null, 1)}\n`);
  writeFileSync(path.join(dir, 'payments.csv'), paymentsCsv(load));
  if (load.cfg.refund_share > 0) {
    writeFileSync(path.join(dir, 'refunds.csv'), refundsCsv(load));
  }
  if (receiver) {
    writeFileSync(path.join(dir, 'webhooks.csv'), webhooksCsv(receiver));
  }
  writeFileSync(path.join(dir, 'report.html'), renderHtml(res));
}
