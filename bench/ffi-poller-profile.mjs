#!/usr/bin/env node
// Where the pollers' CPU goes under load (issue 10: "pollers under 3% of the machine" is missed,
// and the gate keeps them from spinning there, so what do they spend it on?). Starts the UDS echo
// server and tresty (conf/bench/tresty.conf, 2 workers), runs wrk on /echo-ffi (POST of --bytes,
// 64 connections), and meanwhile `perf record`s the poller threads of both workers (cpu-clock,
// call graphs) and reads their CPU with bench/lib/threads.mjs (schedstat). Prints the pollers' CPU per
// request and their samples by where they were: the runtime's and host's own code (the work),
// the futex sleep and wake-up, the doorbell's write, and the rest of the kernel.
// Needs perf (Debian: linux-perf) and root; says so and exits 2 otherwise.
//   node bench/ffi-poller-profile.mjs [--bytes 512] [--seconds 4] [--data FILE] [--root CHECKOUT] [--cpu-only]
// --cpu-only: no perf (which adds to the pollers' CPU): their CPU per request and req/s alone.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { runLoad } from './lib/load.mjs';
import { tempDir } from './lib/procs.mjs';
import { cpuDelta, snapshot } from './lib/threads.mjs';
import { startUdsEcho } from './lib/uds-server.mjs';
import { argsOrUsage } from './lib/usage.mjs';

const USAGE = 'usage: node bench/ffi-poller-profile.mjs [--bytes 512] [--seconds 4] [--data FILE] [--root CHECKOUT] [--cpu-only]';
const values = argsOrUsage(USAGE, { bytes: { type: 'string', default: '512' }, seconds: { type: 'string', default: '4' }, data: { type: 'string' }, root: { type: 'string' }, 'cpu-only': { type: 'boolean' } });
// --root: another checkout's tresty (built), to compare two builds run after run.
const { startTresty } = await import(path.resolve(values.root ?? path.join(path.dirname(new URL(import.meta.url).pathname), '..'), 'bench/lib/servers.mjs'));
const probe = values['cpu-only'] ? null : spawnSync('perf', ['record', '-e', 'cpu-clock', '-o', '/dev/null', '--', 'true'], { encoding: 'utf8' });
if (probe && (probe.error || probe.status !== 0)) {
  console.error(`ffi-poller-profile: needs perf record (Debian: linux-perf, run as root): ${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}`);
  process.exit(2);
}
const bytes = Number(values.bytes);
const seconds = Number(values.seconds);

const isPoller = (name) => /poll/.test(name);

const dir = tempDir('poller-profile');
const data = values.data ?? path.join(dir, 'perf.data'); // --data FILE keeps it for perf report
const uds = await startUdsEcho(path.join(dir, 'echo.sock'), { threads: 2 });
const tresty = await startTresty({ udsSocket: uds.socketPath });
let res;
let cpu = 0;
let threads = [];
try {
  await runLoad(tresty.url('/echo-ffi'), { tool: 'wrk', connections: 64, seconds: 1, bodyBytes: bytes });
  const workers = execFileSync('pgrep', ['-P', String(tresty.pid)], { encoding: 'utf8' }).trim().split('\n');
  const before = snapshot(workers, { tree: false });
  threads = Object.values(before).flatMap((p) => Object.entries(p.threads).filter(([, t]) => isPoller(t.comm)).map(([tid, t]) => ({ tid, comm: t.comm })));
  const perf = values['cpu-only'] ? null : spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '4000', '-g', '-t', threads.map((t) => t.tid).join(','), '-o', data],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  res = await runLoad(tresty.url('/echo-ffi'), { tool: 'wrk', connections: 64, seconds, bodyBytes: bytes });
  cpu = 1e6 * cpuDelta(before, snapshot(workers, { tree: false })).flatMap((r) => r.threads).filter((t) => isPoller(t.name)).reduce((n, t) => n + t.seconds, 0);
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.on('exit', r));
  }
} finally {
  await tresty.stop();
  await uds.stop();
}

if (values['cpu-only']) {
  console.log(`POST ${bytes} B to /echo-ffi, wrk -t1 -c64, ${seconds} s, 2 workers: ${Math.round(res.rps)} req/s; pollers ${(cpu / res.requests).toFixed(2)} µs of CPU per request, ${(cpu / (seconds * 1e6) / 2 * 100).toFixed(1)}% of the machine`);
  process.exit(0);
}
// Each sample's call chain, leaf first: classify by the first frame that names what it is doing.
const script = spawnSync('perf', ['script', '-i', data, '-F', 'ip,sym,dso'], { encoding: 'utf8', maxBuffer: 1 << 30 });
const buckets = new Map();
const leafs = new Map(); // bucket -> leaf symbol -> samples
const others = new Map(); // 'other kernel': the first frame under the hypervisor's irq-enable
let total = 0;
for (const block of script.stdout.split('\n\n')) {
  const frames = block.split('\n').map((l) => l.trim()).filter(Boolean);
  if (!frames.length) continue;
  total++;
  const chain = frames.join(' ');
  const leaf = frames[0];
  let k;
  if (/futex/.test(chain) || /^\S+ syscall /.test(leaf)) k = 'futex: sleep, wake-up, switch';
  else if (/libc_write|ksys_write|pipe_write|eventfd_write/.test(chain)) k = 'doorbell write';
  else if (/pread|seq_read|do_task_stat|loadavg|getaffinity/.test(chain)) k = "the spin gate's /proc reads";
  else if (/sched_yield/.test(chain)) k = 'sched_yield';
  else if (/kernel\.kallsyms/.test(leaf)) {
    k = 'other kernel';
    const below = frames.find((f) => !/pvm_irq|raw_callee/.test(f));
    const m = /\s(\S+) \(/.exec(below ?? '');
    others.set(m?.[1] ?? '?', (others.get(m?.[1] ?? '?') ?? 0) + 1);
  }
  else if (/libtresty_host/.test(leaf)) k = 'host: task_poll and take_task (spins, batches), respond';
  else if (/libecho_c/.test(leaf)) k = 'runtime (echo_c)';
  else if (/libc\.so/.test(leaf)) k = 'libc: malloc, free, copies';
  else k = 'other';
  buckets.set(k, (buckets.get(k) ?? 0) + 1);
  const sym = leaf.split(/\s+/)[1] ?? '?';
  const m = leafs.get(k) ?? new Map();
  m.set(sym, (m.get(sym) ?? 0) + 1);
  leafs.set(k, m);
}
console.log(`POST ${bytes} B to /echo-ffi, wrk -t1 -c64, ${seconds} s, 2 workers: ${Math.round(res.rps)} req/s`);
console.log(`pollers (${threads.map((t) => t.comm).join(', ')}): ${(cpu / res.requests).toFixed(2)} µs of CPU per request, ${(cpu / (seconds * 1e6) / 2 * 100).toFixed(1)}% of the machine`);
console.log('where | samples | share | leaf functions, share of the row');
for (const [k, n] of [...buckets].sort((a, b) => b[1] - a[1])) {
  const top = [...leafs.get(k)].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([f, c]) => `${f} ${(c / n * 100).toFixed(0)}%`).join(', ');
  console.log(`${k} | ${n} | ${(n / total * 100).toFixed(1)}% | ${top}`);
}
console.log(`other kernel, by the first frame under the hypervisor's irq-enable: ${[...others].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([f, c]) => `${f} ${c}`).join(', ')}`);
