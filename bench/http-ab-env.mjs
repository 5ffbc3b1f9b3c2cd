#!/usr/bin/env node
// One tresty build, two settings side by side: did a switch (an environment variable the server
// reads) change what a request costs? Two servers on conf/bench/tresty.conf (2 workers each), A as
// the environment is, B with --env NAME=VALUE; they take turns round after round under the same
// closed-loop load (wrk -t1 -c64 unless --connections), each ratio (B / A) the median of its per-round ratios, with the
// CPU per request of each server's process tree from /proc/PID/task/*/stat (all of it, then the
// workers' main threads and the pollers apart), the times those threads were put on a CPU per
// request (sw/req, from schedstat), wrk's p50 and p99 latency and the machine's idle share from
// /proc/stat:
//   node bench/http-ab-env.mjs --env TRESTY_BODY_EAGER=0 [--paths /echo-js,/hello] [--bytes 512,10240]
//                              [--rounds 3] [--duration 2] [--connections 64]
// Switches it was made for: TRESTY_BODY_EAGER=0 (every request body waits for JS to ask),
// TRESTY_FFI_BELL=socket (FFI doorbells read by a net.Socket, not by the engine's epoll) and
// TRESTY_FFI_POLLER_SCHED=batch (pollers that do not preempt the worker that woke them).
import os from 'node:os';
import path from 'node:path';
import { argsOrUsage } from './lib/usage.mjs';
import { pickLoad, runLoad } from './lib/load.mjs';
import { onCleanup, tempDir } from './lib/procs.mjs';
import { startTresty } from './lib/servers.mjs';
import { median } from './lib/stats.mjs';
import { cpuDelta, machineJiffies, snapshot } from './lib/threads.mjs';
import { startUdsEcho } from './lib/uds-server.mjs';

const USAGE = 'usage: node bench/http-ab-env.mjs --env NAME=VALUE [--paths P,..] [--bytes N,..] [--rounds N] [--duration S] [--connections N] [--load wrk|autocannon]';
const values = argsOrUsage(USAGE, {
    env: { type: 'string' }, paths: { type: 'string', default: '/echo-js,/echo-ffi,/hello' },
    bytes: { type: 'string', default: '512,10240' }, rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '2' }, load: { type: 'string' },
    connections: { type: 'string', default: '64' },
  });
if (!values.env || !values.env.includes('=')) {
  console.error(USAGE);
  process.exit(2);
}
const [name, value] = [values.env.slice(0, values.env.indexOf('=')), values.env.slice(values.env.indexOf('=') + 1)];
const rounds = Number(values.rounds);
const seconds = Number(values.duration);
const connections = Number(values.connections);
const tool = pickLoad(values.load);
const load0 = os.loadavg()[0];

const dir = tempDir('ab-env');
const uds = await startUdsEcho(path.join(dir, 'echo.sock'));
onCleanup(() => uds.stop());
const a = await startTresty({ udsSocket: path.join(dir, 'echo.sock') });
onCleanup(() => a.stop());
process.env[name] = value; // B's master and workers inherit it
const b = await startTresty({ udsSocket: path.join(dir, 'echo.sock') });
delete process.env[name];
onCleanup(() => b.stop());

/** One load run; req/s, the machine's idle share and the server tree's CPU (µs per request, and by thread name). */
async function measure(s, p, bodyBytes) {
  const before = snapshot([s.pid]);
  const m0 = machineJiffies();
  const r = await runLoad(s.url(p), { tool, connections, seconds, threads: 1, bodyBytes });
  const m1 = machineJiffies();
  const rows = cpuDelta(before, snapshot([s.pid]));
  const threads = new Map();
  const slices = new Map();
  let total = 0;
  for (const row of rows) {
    total += row.total;
    for (const t of row.threads) {
      threads.set(t.name.trim(), (threads.get(t.name.trim()) ?? 0) + t.seconds);
      slices.set(t.name.trim(), (slices.get(t.name.trim()) ?? 0) + t.slices);
    }
  }
  const per = (sec) => (sec * 1e6) / Math.max(1, r.requests);
  let main = 0;
  let poll = 0;
  let sw = 0;
  for (const [n, v] of threads) {
    if (n === 'tresty: worker') main += v;
    else if (/poll/.test(n)) poll += v;
    if (n === 'tresty: worker' || /poll/.test(n)) sw += slices.get(n);
  }
  return {
    rps: r.rps, errors: r.errors, p50: r.p50Ms, p99: r.p99Ms, usPerReq: per(total), mainUs: per(main), pollUs: per(poll), threads,
    sw: sw / Math.max(1, r.requests),
    idle: (m1.idle - m0.idle) / Math.max(1, m1.total - m0.total),
  };
}

const out = [];
for (const bytes of values.bytes.split(',').map(Number)) {
  for (const p of values.paths.split(',')) {
    const body = p === '/hello' ? 0 : bytes;
    await measure(a, p, body); // warm-up, both
    await measure(b, p, body);
    const got = { a: [], b: [] };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [['a', a], ['b', b]] : [['b', b], ['a', a]];
      for (const [k, s] of order) got[k].push(await measure(s, p, body));
    }
    const med = (k, f) => median(got[k].map(f));
    const ratios = got.a.map((x, i) => got.b[i].rps / x.rps);
    // µs per request of the workers' main threads (comm "tresty: worker") and of the pollers.
    const split = (k) => `${med(k, (x) => x.mainUs).toFixed(1)} / ${med(k, (x) => x.pollUs).toFixed(1)}`;
    out.push({
      path: p, body: body ? `${body} B` : '-',
      'A req/s': Math.round(med('a', (x) => x.rps)), 'B req/s': Math.round(med('b', (x) => x.rps)),
      'B / A': `${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)})`,
      'A µs CPU/req': med('a', (x) => x.usPerReq).toFixed(1), 'B µs CPU/req': med('b', (x) => x.usPerReq).toFixed(1),
      'A main / poll µs': split('a'), 'B main / poll µs': split('b'),
      'sw/req A / B': `${med('a', (x) => x.sw).toFixed(2)} / ${med('b', (x) => x.sw).toFixed(2)}`,
      'p50 ms A / B': `${med('a', (x) => x.p50).toFixed(2)} / ${med('b', (x) => x.p50).toFixed(2)}`,
      'p99 ms A / B': `${med('a', (x) => x.p99).toFixed(2)} / ${med('b', (x) => x.p99).toFixed(2)}`,
      'idle A / B': `${(100 * med('a', (x) => x.idle)).toFixed(0)}% / ${(100 * med('b', (x) => x.idle)).toFixed(0)}%`,
      errors: got.a.concat(got.b).reduce((s, x) => s + x.errors, 0),
    });
  }
}
console.log(`A: as is; B: ${name}=${value}. ${tool} -t1 -c${connections}, ${rounds} rounds x ${seconds} s, 2 workers each; ` +
  `load average ${load0.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end`);
console.table(out);
await Promise.all([a.stop(), b.stop()]);
await uds.stop();
