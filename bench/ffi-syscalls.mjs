#!/usr/bin/env node
// System calls per request of the workers' threads, per path (issue 10: where a ring call's extra
// worker CPU goes through HTTP). Starts the UDS echo server and tresty (conf/bench/tresty.conf, 2
// workers), then for each path runs wrk (POST of --bytes, 64 connections) while `perf stat`
// counts the syscall tracepoints of every thread of both workers; prints the count per request by
// thread group (worker main, poller, other). Needs perf (Debian: linux-perf) and the tracepoints
// (root); says so and exits 2 otherwise. Node turns on libuv's idle-time metrics
// (UV_METRICS_IDLE_TIME), so every turn of the loop first polls with timeout 0 and, when that finds
// nothing, polls again to sleep: libuv's epoll_pwait counts turns plus sleeps, and the table gives
// both apart (the sleeps are the calls with a timeout other than 0).
//   node bench/ffi-syscalls.mjs [--paths /echo-ffi,/echo-uds,/echo-fn] [--bytes 512] [--seconds 4]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { runLoad } from './lib/load.mjs';
import { tempDir } from './lib/procs.mjs';
import { startTresty } from './lib/servers.mjs';
import { startUdsEcho } from './lib/uds-server.mjs';
import { argsOrUsage } from './lib/usage.mjs';

const USAGE = 'usage: node bench/ffi-syscalls.mjs [--paths /echo-ffi,/echo-uds,/echo-fn] [--bytes 512] [--seconds 4]';
const values = argsOrUsage(USAGE, {
  paths: { type: 'string', default: '/echo-ffi,/echo-uds,/echo-fn' },
  bytes: { type: 'string', default: '512' }, seconds: { type: 'string', default: '4' },
});
const CALLS = ['epoll_pwait', 'epoll_wait', 'futex', 'read', 'write', 'recvfrom', 'sendto', 'writev', 'readv', 'epoll_ctl', 'sched_yield'];
const probe = spawnSync('perf', ['stat', '-e', 'syscalls:sys_enter_futex', '--', 'true'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  console.error(`ffi-syscalls: needs perf with syscall tracepoints (Debian: linux-perf, run as root): ${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}`);
  process.exit(2);
}
const bytes = Number(values.bytes);
const seconds = Number(values.seconds);
const SLEEPS = ', blocking: the loop sleeps';
const TURNS = 'main loop turns: epoll_pwait, timeout 0';
const group = (comm) => (/poll/.test(comm) ? 'poller' : /^tresty: worker/.test(comm) ? 'main' : 'other');

const dir = tempDir('syscalls');
const uds = await startUdsEcho(path.join(dir, 'echo.sock'), { threads: 2 });
const tresty = await startTresty({ udsSocket: uds.socketPath });
const rows = [];
try {
  for (const p of values.paths.split(',')) {
    await runLoad(tresty.url(p), { tool: 'wrk', connections: 64, seconds: 1, bodyBytes: bytes });
    const workers = execFileSync('pgrep', ['-P', String(tresty.pid)], { encoding: 'utf8' }).trim().split('\n').join(',');
    // The same tracepoint once more, filtered to the calls that may block: the loop going to sleep.
    const perf = spawn('perf', ['stat', '-x,', '--per-thread', '-e', CALLS.map((c) => `syscalls:sys_enter_${c}`).join(','),
      '-e', 'syscalls:sys_enter_epoll_pwait', '--filter', 'timeout != 0', '-p', workers], { stdio: ['ignore', 'ignore', 'pipe'] });
    let out = '';
    perf.stderr.on('data', (d) => { out += d; });
    const exited = new Promise((r) => perf.on('exit', r)); // before the run: a perf that fails at once
    const res = await runLoad(tresty.url(p), { tool: 'wrk', connections: 64, seconds, bodyBytes: bytes });
    perf.kill('SIGINT');
    await exited;
    const counts = new Map();
    const seen = new Set(); // thread|event: a second line for it is the filtered epoll_pwait
    for (const line of out.split('\n')) {
      const f = line.split(',');
      if (f.length < 4) continue;
      const again = seen.has(`${f[0]}|${f[3]}`);
      seen.add(`${f[0]}|${f[3]}`);
      if (!Number(f[1])) continue;
      const k = `${group(f[0])} ${f[3].replace('syscalls:sys_enter_', '')}${again ? SLEEPS : ''}`;
      counts.set(k, (counts.get(k) ?? 0) + Number(f[1]));
    }
    rows.push({ path: p, rps: res.rps, requests: res.requests, counts });
  }
} finally {
  await tresty.stop();
  await uds.stop();
}
for (const r of rows) { // every turn of the loop polls once with timeout 0 (see the header)
  const all = r.counts.get('main epoll_pwait') ?? 0;
  r.counts.set(TURNS, all - (r.counts.get(`main epoll_pwait${SLEEPS}`) ?? 0));
}
const keys = [...new Set(rows.flatMap((r) => [...r.counts.keys()]))].filter((k) => rows.some((r) => (r.counts.get(k) ?? 0) / r.requests >= 0.005)).sort();
console.log(`POST ${bytes} B, wrk -t1 -c64, ${seconds} s per path, 2 workers; system calls per request (all threads of both workers)`);
console.log(['calls', ...rows.map((r) => `${r.path} (${Math.round(r.rps)} req/s)`)].join(' | '));
for (const k of keys) console.log([k, ...rows.map((r) => ((r.counts.get(k) ?? 0) / r.requests).toFixed(3))].join(' | '));
