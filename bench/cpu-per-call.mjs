#!/usr/bin/env node
// Where an FFI or UDS call's time goes, from the event loop's side: runs one side of one cell
// and prints calls/s, the event-loop thread's own CPU time per call (from /proc, Linux only) and
// the runtime's doorbell/wake counters. A call whose event-loop CPU is close to its latency is
// bound by JS and libuv work, not by the transport. Profile further with
// `node --cpu-prof bench/cpu-per-call.mjs ...` or `perf record -g node --perf-basic-prof ...`.
//   node bench/cpu-per-call.mjs ffi|uds [raw|msgpack] [bytes] [inflight] [ms]
import { readFileSync } from 'node:fs';
import { drive, makeRequest } from './lib/drive.mjs';
import { formatOf, openFfi, openUds } from './lib/sides.mjs';
import { cpuDelta, snapshot } from './lib/threads.mjs';

const [side = 'ffi', format = 'raw', size = '512', inflight = '1', ms = '2000'] = process.argv.slice(2);
if (!['ffi', 'uds'].includes(side)) {
  console.error('usage: node bench/cpu-per-call.mjs ffi|uds [raw|msgpack] [bytes] [inflight] [ms]');
  process.exit(2);
}

/** CPU seconds (user + system) of the main thread alone: the runtime's threads are not in it. */
function mainThreadCpu() {
  const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
}

const s = side === 'ffi' ? await openFfi(format) : await openUds(format);
const req = makeRequest(format, Number(size), await formatOf(format));
const opts = { inflight: Number(inflight), durationMs: Number(ms) };
await drive(s.call, req, { ...opts, durationMs: 300 });
const pids = [process.pid, ...(s.pids ?? [])];
const before = s.debugInfo?.();
const t0 = snapshot(pids, { tree: false });
const c0 = mainThreadCpu();
const r = await drive(s.call, req, opts);
const cpu = mainThreadCpu() - c0;
const threads = cpuDelta(t0, snapshot(pids, { tree: false }));
const after = s.debugInfo?.();
const per1k = (k) => (((after[k] - before[k]) / r.calls) * 1000).toFixed(1);
// Every thread's CPU per call (schedstat), the poller's and the UDS server's included: which side
// is busy tells which one bounds calls/s.
const perThread = threads.flatMap((p) => p.threads.filter((t) => t.seconds > 0.001 * (r.elapsedMs / 1000))
  .map((t) => `${p.pid === process.pid ? '' : 'server '}${t.name} ${((t.seconds * 1e6) / r.calls).toFixed(2)} µs (${Math.round((100 * t.seconds) / (r.elapsedMs / 1000))}%)`));
console.log([
  `${side} ${format} ${size} B x${inflight}: ${Math.round(r.rate).toLocaleString('en-US')} calls/s`,
  `p50 ${(r.samples.percentile(50) * 1000).toFixed(1)} µs, p99 ${(r.samples.percentile(99) * 1000).toFixed(1)} µs`,
  `event loop busy ${((100 * cpu) / (r.elapsedMs / 1000)).toFixed(0)}%, ${((cpu * 1e6) / r.calls).toFixed(2)} µs of its CPU per call`,
  ...(after ? [`per 1,000 calls: ${per1k('doorbells')} doorbells, ${per1k('wakes')} poller wakes, ${per1k('looks')} looks ` +
    `(${per1k('lookHits')} hits), ${per1k('quick')} quick, ${per1k('waits')} waits (${per1k('waited')} answered), ${per1k('spins')} spins`] : []),
  `per thread, CPU per call: ${perThread.join(', ')}`,
].join('; '));
await s.close();
