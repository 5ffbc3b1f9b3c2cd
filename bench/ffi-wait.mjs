#!/usr/bin/env node
// How a runtime's poller should wait for requests (issue 10): sleep on the futex at once, spin a
// bounded while first only while a core is idle (TRESTY_FFI_GATED_SPIN_NS, the default), or spin
// a bounded while whatever the load (TRESTY_FFI_SPIN_NS). Each candidate runs the echo_c
// runtime (raw 512 B, 1 and 64 calls in flight) in a fresh process on an idle machine, with one
// CPU hog (half loaded on 2 cores) and with a hog per core (saturated), and reports calls/s, the
// CPU of the poller thread and of the whole process per call, and the poller's CPU while idle.
// A spin is worth keeping only if it wins under every load.
// --kind function measures a function plugin's pool threads instead of a runtime's poller.
// node bench/ffi-wait.mjs [--ms 1000] [--rounds 3] [--kind runtime|function] [--md]
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { drive } from './lib/drive.mjs';
import { startHogs } from './lib/hog.mjs';
import { toText, toMarkdown, fmt } from './lib/table.mjs';
import { cpuDelta, snapshot } from './lib/threads.mjs';
import path from 'node:path';
import { importDist, NATIVE_BUILD } from './lib/tresty-dist.mjs';

const TEST_RUNTIMES = path.join(NATIVE_BUILD, 'test-runtimes');

// [label, env]: the candidates. The gated spins run only while the other runnable tasks leave a
// core for the spinner and one for the caller, the event loop (native/host/spin_gate.h: the caller
// counts as another task only while it sleeps; `blind`: always, the rule before); the ungated one
// always runs its budget. `JS wait`: while the gate is open, the event loop's look polls the
// completion ring that long before it arms the doorbell (TRESTY_FFI_JS_WAIT_US, src/ffi/channel.ts).
const SPINS = [
  ['none', { TRESTY_FFI_GATED_SPIN_NS: '0' }],
  ['gated 50 µs, blind', { TRESTY_FFI_GATED_SPIN_NS: '50000', TRESTY_FFI_GATE_BLIND: '1', TRESTY_FFI_JS_WAIT_US: '0' }],
  ['gated 50 µs', { TRESTY_FFI_GATED_SPIN_NS: '50000', TRESTY_FFI_JS_WAIT_US: '0' }],
  ['gated 50 µs, JS wait 10 µs', { TRESTY_FFI_GATED_SPIN_NS: '50000', TRESTY_FFI_JS_WAIT_US: '10' }],
  ['spin 50 µs', { TRESTY_FFI_SPIN_NS: '50000' }],
];
const INFLIGHT = [1, 64];

async function child(ms, kind) {
  const { loadFfi } = await importDist('src/ffi/index.js');
  const tidsNow = () => Object.keys(snapshot([process.pid], { tree: false })[process.pid]?.threads ?? {});
  const born = new Set(tidsNow());
  // runtime: echo_c's poller thread; function: the pool threads lent to a C echo function.
  const p = kind === 'function'
    ? loadFfi('tresty_test_fnlib', null, { format: 'raw', maxQueue: 4096, timeoutMs: 0, searchPath: [TEST_RUNTIMES], kind: 'function', symbol: 'tresty_test_echo' })
    : loadFfi('echo_c', null, { format: 'raw', maxQueue: 4096, timeoutMs: 0, searchPath: [NATIVE_BUILD] });
  const req = Buffer.alloc(512, 7);
  await drive((r) => p.call(r), req, { inflight: 64, durationMs: 300 });
  // The waiting threads are the ones the plugin started (pool threads are all named "node").
  const waiters = new Set(tidsNow().filter((t) => !born.has(t)));
  const out = {};
  const cpu = (a, b) => {
    const rows = cpuDelta(a, b).filter((r) => r.pid === process.pid);
    let poller = 0;
    for (const [tid, t] of Object.entries(b[process.pid]?.threads ?? {})) {
      if (!waiters.has(tid)) continue;
      const was = a[process.pid]?.threads[tid];
      poller += t.ns !== null && was?.ns != null ? (t.ns - was.ns) / 1e9 : (t.ticks - (was?.ticks ?? 0)) / 100;
    }
    return { total: rows[0]?.total ?? 0, poller };
  };
  for (const inflight of INFLIGHT) {
    const a = snapshot([process.pid], { tree: false });
    const s0 = p.debugInfo().spins ?? 0;
    const r = await drive((x) => p.call(x), req, { inflight, durationMs: ms });
    const c = cpu(a, snapshot([process.pid], { tree: false }));
    const spins = (p.debugInfo().spins ?? 0) - s0;
    out[inflight] = { rate: r.rate, seconds: r.elapsedMs / 1000, p50: r.samples.percentile(50) * 1000, spinsPerCall: spins / r.calls, ...c };
  }
  await new Promise((res) => setTimeout(res, 100));
  const a = snapshot([process.pid], { tree: false });
  await new Promise((res) => setTimeout(res, 1000));
  out.idle = cpu(a, snapshot([process.pid], { tree: false }));
  process.stdout.write(JSON.stringify(out));
  await p.unload();
}

async function main() {
  const { values } = parseArgs({ options: { ms: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '1' }, kind: { type: 'string', default: 'runtime' }, child: { type: 'boolean', default: false }, md: { type: 'boolean', default: false } } });
  const ms = Number(values.ms);
  const rounds = Math.max(1, Number(values.rounds));
  const kind = values.kind === 'function' ? 'function' : 'runtime';
  if (values.child) return child(ms, kind);
  const cores = os.availableParallelism();
  const loads = [{ name: 'idle', hogs: 0 }, { name: `${Math.max(1, cores >> 1)} hog(s)`, hogs: Math.max(1, cores >> 1) }, { name: `${cores} hogs`, hogs: cores }];
  const rows = [];
  const load0 = os.loadavg()[0].toFixed(1);
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  for (const load of loads) {
    const hogs = load.hogs ? startHogs({ count: load.hogs }) : null;
    try {
      // Rounds alternate the candidates, so that drift on a shared machine hits each alike; each
      // cell is the median over the rounds.
      const got = SPINS.map(() => []);
      for (let round = 0; round < rounds; round++) {
        SPINS.forEach(([, env], i) => {
          const txt = execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--child', '--ms', String(ms), '--kind', kind], {
            env: { ...process.env, TRESTY_FFI_SPIN_NS: '0', TRESTY_FFI_SPIN_YIELDS: '0', TRESTY_FFI_GATED_SPIN_NS: '0', TRESTY_FFI_GATE_KEEP: '1', TRESTY_FFI_GATE_BLIND: '0', TRESTY_FFI_JS_WAIT_US: '0', ...env }, encoding: 'utf8', timeout: 60_000,
          });
          got[i].push(JSON.parse(txt));
        });
      }
      SPINS.forEach(([label], i) => {
        for (const inflight of INFLIGHT) {
          const xs = got[i].map((r) => r[inflight]);
          rows.push({
            load: load.name, spin: label, inflight, rate: fmt.rate(median(xs.map((x) => x.rate))),
            p50: median(xs.map((x) => x.p50)).toFixed(1),
            spins: median(xs.map((x) => x.spinsPerCall ?? 0)).toFixed(2),
            pollerPct: `${Math.round(median(xs.map((x) => (100 * x.poller) / x.seconds)))}%`,
            usPerCall: median(xs.map((x) => (1e6 * x.total) / (x.rate * x.seconds))).toFixed(2),
            idle: `${Math.round(100 * Math.max(...got[i].map((r) => r.idle.poller)))}%`,
          });
        }
      });
    } finally {
      await hogs?.stop();
    }
  }
  const table = {
    title: `${kind === 'function' ? 'Pool threads waiting: a C echo function (kind function)' : 'Poller waiting: echo_c'} raw 512 B, ${ms} ms per cell, median of ${rounds} round(s), ${cores} cores, load ${load0} at the start, ${os.loadavg()[0].toFixed(1)} at the end`,
    columns: [
      { key: 'load', label: 'machine', align: 'left' }, { key: 'spin', label: 'spin', align: 'left' }, { key: 'inflight', label: 'in flight' },
      { key: 'rate', label: 'calls/s' }, { key: 'p50', label: 'p50 µs' }, { key: 'spins', label: 'spins/call' }, { key: 'pollerPct', label: kind === 'function' ? 'pool CPU' : 'poller CPU' }, { key: 'usPerCall', label: 'process CPU µs/call' },
      { key: 'idle', label: kind === 'function' ? 'pool CPU idle' : 'poller CPU idle' },
    ],
    rows,
    notes: ['poller / pool CPU: share of one core used by the threads the plugin started (echo_c-poll, or the pool threads) during the run; idle: the most of it over 1 s with no calls, in any round.',
      'spins/call: spins the gate allowed (the ring header\'s SPINS), per call: how often it was open (0 for none and the ungated spin).'],
  };
  console.log(values.md ? toMarkdown(table) : toText(table));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
