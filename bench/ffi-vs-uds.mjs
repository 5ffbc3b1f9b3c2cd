#!/usr/bin/env node
// FFI against a unix domain socket: the same native echo logic reached through the ring
// (plugin.call) and through a native UDS server, from a plain Node process (no HTTP in the way).
// For each format x payload x calls-in-flight cell, both sides run in alternating rounds in this
// one process, and the ratio is the median of the per-round ratios: drift on a shared machine
// hits both sides alike. Alone: node bench/ffi-vs-uds.mjs [--quick] [--payloads 512] ...
import { pathToFileURL } from 'node:url';
import { benchArgs } from './lib/args.mjs';
import { checkEcho, drive, encodedSize, makeRequest } from './lib/drive.mjs';
import { progress } from './lib/progress.mjs';
import { formatOf, openFfi, openUds } from './lib/sides.mjs';
import { median, Samples, spread } from './lib/stats.mjs';
import { fmt } from './lib/table.mjs';
import { commandLine, runSuite } from './lib/suite.mjs';
import { checkFfi } from './lib/targets.mjs';
import { startHogs } from './lib/hog.mjs';
import { cpuDelta, snapshot } from './lib/threads.mjs';
import { crossCore, describeCrossCore } from './lib/xcore.mjs';

/** One run, with the CPU of every thread it cost: this process (event loop, the FFI runtime's
    poller) and the UDS server's process. */
async function measure(side, req, inflight, durationMs) {
  const pids = [process.pid, ...(side.pids ?? [])];
  const before = snapshot(pids, { tree: false }); // not the hogs, which are children too
  const r = await drive(side.call, req, { inflight, durationMs });
  r.cpu = { main: 0, poller: 0, server: 0, other: 0 };
  for (const p of cpuDelta(before, snapshot(pids, { tree: false }))) {
    for (const t of p.threads) {
      const key = p.pid !== process.pid ? 'server' : /poll/.test(t.name) ? 'poller' : t.name === p.comm ? 'main' : 'other';
      r.cpu[key] += t.seconds;
    }
  }
  return r;
}

function summarize(runs) {
  const pooled = runs.reduce((acc, r) => acc.merge(r.samples), new Samples());
  return {
    rate: median(runs.map((r) => r.rate)),
    rounds: runs.map((r) => Math.round(r.rate)),
    calls: runs.reduce((a, r) => a + r.calls, 0),
    p50Us: pooled.percentile(50) * 1000,
    p99Us: pooled.percentile(99) * 1000,
    // CPU per call (µs) summed over rounds, and the poller's / server's share of a core
    cpuUs: (1e6 * runs.reduce((a, r) => a + r.cpu.main + r.cpu.poller + r.cpu.server + r.cpu.other, 0)) / runs.reduce((a, r) => a + r.calls, 0),
    helperCore: runs.reduce((a, r) => a + r.cpu.poller + r.cpu.server, 0) / runs.reduce((a, r) => a + r.elapsedMs / 1000, 0),
  };
}

export async function runFfiVsUds(opts) {
  const { formats, payloads, inflight: inflights, rounds, ffiMs } = opts;
  const started = new Date().toISOString();
  const prog = progress('ffi-vs-uds', formats.length * payloads.length * inflights.length);
  const cells = [];
  const notes = [];
  let ffiError = null;
  // Before the hogs and after them: the host's state, not the hogs', is what this records.
  const host = { xcoreStart: crossCore() };
  // --busy: a CPU hog per core for the whole run, the state of a server under load.
  const hogs = opts.busy ? startHogs() : null;
  try {
  for (const format of formats) {
    const fmtObj = await formatOf(format);
    const uds = await openUds(format);
    let ffi = null;
    try {
      ffi = await openFfi(format);
    } catch (e) {
      ffiError = e.message;
      prog.note(`FFI side unavailable, measuring UDS alone: ${e.message}`);
    }
    try {
      // One warm-up per side before the first cell, so the first cell measured is not also the
      // one that pays for JIT compilation and the runtime's first thread wake-ups.
      const warmReq = makeRequest(format, payloads[0], fmtObj);
      for (const s of ffi ? [ffi, uds] : [uds]) await measure(s, warmReq, Math.max(...inflights), Math.min(500, ffiMs));
      for (const size of payloads) {
        const req = makeRequest(format, size, fmtObj);
        const sides = ffi ? [ffi, uds] : [uds];
        for (const s of sides) await checkEcho(s, req);
        for (const inflight of inflights) {
          prog.step(`${format} ${fmt.bytes(size)} x${inflight}`);
          // Warm-up: JIT, connection buffers, runtime threads, for both sides.
          for (const s of sides) await measure(s, req, inflight, Math.min(200, ffiMs / 2));
          const runs = { FFI: [], UDS: [] };
          for (let r = 0; r < rounds; r++) {
            // Alternate which side goes first, so a slow start or a noisy neighbour is shared.
            const order = r % 2 ? [...sides].reverse() : sides;
            for (const s of order) runs[s.label].push(await measure(s, req, inflight, ffiMs));
          }
          const cell = {
            format, size, bytes: encodedSize(req, fmtObj), inflight,
            uds: summarize(runs.UDS),
            ffi: ffi ? summarize(runs.FFI) : null,
          };
          const ratios = ffi ? runs.FFI.map((f, i) => f.rate / runs.UDS[i].rate) : [];
          cell.ratio = ffi ? median(ratios) : null;
          cell.ratioSpread = ffi ? spread(ratios) : null;
          cells.push(cell);
        }
      }
    } finally {
      await ffi?.close();
      await uds.close();
    }
  }
  } finally {
    await hogs?.stop();
  }
  host.xcoreEnd = crossCore();
  prog.end();
  if (ffiError) notes.push(`FFI side not measured: ${ffiError}`);
  notes.push(describeCrossCore(host.xcoreStart, host.xcoreEnd));
  if (hogs) notes.push(`--busy: ${hogs.pids.length} CPU hogs (one per core) ran through every cell.`);
  return {
    name: opts.busy ? 'ffi-busy' : 'ffi',
    title: `FFI vs UDS: native echo, from a plain Node process${opts.busy ? ', every core busy (a hog per core)' : ''}`,
    date: started,
    settings: { formats, payloads, inflight: inflights, rounds, msPerRound: ffiMs, udsThreads: 1, ffiRuntime: 'libecho_c.so (threads=0)', busy: !!opts.busy },
    ffiError,
    host,
    cells,
    targets: checkFfi(cells, !!opts.busy),
    notes,
  };
}

/** The section's tables: one with every cell, one with the targets. */
export function ffiTables(sec) {
  const us = (x) => (Number.isFinite(x) ? (x < 100 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US')) : 'n/a');
  const rows = sec.cells.map((c) => ({
    format: c.format,
    payload: fmt.bytes(c.size),
    inflight: c.inflight,
    ffiRate: fmt.rate(c.ffi?.rate),
    ffiP50: us(c.ffi?.p50Us),
    ffiP99: us(c.ffi?.p99Us),
    udsRate: fmt.rate(c.uds.rate),
    udsP50: us(c.uds.p50Us),
    udsP99: us(c.uds.p99Us),
    ratio: fmt.ratio(c.ratio),
    p50Ratio: c.ffi ? fmt.ratio(c.uds.p50Us / c.ffi.p50Us) : 'n/a',
    spread: c.ratioSpread === null || sec.settings.rounds < 2 ? '' : `±${fmt.pct(c.ratioSpread / 2)}`,
    ffiCpu: c.ffi ? c.ffi.cpuUs.toFixed(1) : 'n/a',
    udsCpu: c.uds.cpuUs.toFixed(1),
    poller: c.ffi ? fmt.pct(c.ffi.helperCore) : 'n/a',
    server: fmt.pct(c.uds.helperCore),
  }));
  return [
    {
      title: `${sec.title} (${sec.settings.rounds} round(s) x ${sec.settings.msPerRound} ms per side per cell)`,
      columns: [
        { key: 'format', label: 'format', align: 'left' },
        { key: 'payload', label: 'payload' },
        { key: 'inflight', label: 'in flight' },
        { key: 'ffiRate', label: 'FFI calls/s' },
        { key: 'ffiP50', label: 'FFI p50 µs' },
        { key: 'ffiP99', label: 'FFI p99 µs' },
        { key: 'udsRate', label: 'UDS calls/s' },
        { key: 'udsP50', label: 'UDS p50 µs' },
        { key: 'udsP99', label: 'UDS p99 µs' },
        { key: 'ratio', label: 'FFI/UDS' },
        { key: 'p50Ratio', label: 'UDS/FFI p50' },
        { key: 'spread', label: 'ratio spread' },
        { key: 'ffiCpu', label: 'FFI CPU µs/call' },
        { key: 'udsCpu', label: 'UDS CPU µs/call' },
        { key: 'poller', label: 'FFI poller (core)' },
        { key: 'server', label: 'UDS server (core)' },
      ],
      rows,
      notes: [
        'CPU µs/call: every thread of this process (event loop, the runtime\'s poller, V8 helpers) plus, for UDS, the',
        'server process, over the calls made. FFI poller / UDS server: the share of one core that thread or process used.',
        'FFI/UDS: calls/s ratio, the median of per-round ratios (the targets read this). UDS/FFI p50: how many times',
        'shorter the FFI median latency is; unlike calls/s it is not dragged down by a few long stalls on a busy machine.',
        ...sec.notes,
      ],
    },
    targetTable(sec.settings.busy ? 'FFI vs UDS targets, every core busy (issue 10)' : 'FFI vs UDS targets (issues 5, 10)', sec.targets),
  ];
}

export function targetTable(title, targets) {
  return {
    title,
    columns: [
      { key: 'text', label: 'target', align: 'left' },
      { key: 'measured', label: 'measured' },
      { key: 'status', label: 'status', align: 'left' },
    ],
    rows: targets.map((t) => ({ text: t.text, measured: fmt.ratio(t.ratio ?? NaN), status: t.status })),
  };
}

export const ffiBench = { title: 'FFI vs UDS', run: runFfiVsUds, tables: ffiTables };

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = benchArgs();
  process.exitCode = await runSuite(['ffi'], args, { ffi: ffiBench }, commandLine('ffi-vs-uds'));
}
