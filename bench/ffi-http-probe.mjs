// Where a request's CPU and context switches go, per path, on the native engine (issue 10).
// Starts the UDS echo server and tresty (conf/bench/tresty.conf, 2 workers), then for each path
// in turn runs wrk (POST of --bytes) and reads every thread's schedstat before and after: run
// time and the number of times each thread was put on a CPU. Prints µs of CPU and switches per
// request by thread group. Usage: node bench/ffi-http-probe.mjs [--bytes 512] [--seconds 3] [--rounds 2]
import path from 'node:path';
import { readFileSync, readdirSync } from 'node:fs';
import { startTresty } from './lib/servers.mjs';
import { startUdsEcho } from './lib/uds-server.mjs';
import { runLoad } from './lib/load.mjs';
import { processTree } from './lib/threads.mjs';
import { tempDir } from './lib/procs.mjs';

const arg = (n, d) => { const i = process.argv.indexOf(`--${n}`); return i > 0 ? process.argv[i + 1] : d; };
const BYTES = Number(arg('bytes', 512));
const SECONDS = Number(arg('seconds', 3));
const ROUNDS = Number(arg('rounds', 2));
const PATHS = (arg('paths', '/hello,/echo-js,/echo-ffi,/echo-fn,/echo-uds')).split(',');

function threads(pids) {
  const out = new Map();
  for (const pid of pids.flatMap(processTree)) {
    let tids = [];
    try { tids = readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const tid of tids) {
      try {
        const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
        const [run, , slices] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
        out.set(`${pid}/${tid}`, { comm, run, slices });
      } catch { /* gone */ }
    }
  }
  return out;
}
// Share of the machine's CPU time that was idle, from /proc/stat's first line.
function idle() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] + f[4], total: f.reduce((x, y) => x + y, 0) };
}
const group = (comm) => (/poll/.test(comm) ? 'poller' : /^tresty: worker/.test(comm) ? 'worker main' : /^tresty: master/.test(comm) ? 'master' : comm === 'node' || /V8|libuv|node/.test(comm) ? 'V8/libuv helpers' : comm);

const dir = tempDir('probe');
const uds = await startUdsEcho(path.join(dir, 'echo.sock'), { threads: 2 });
const tresty = await startTresty({ udsSocket: uds.socketPath });
const body = 'x'.repeat(BYTES);
const rows = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const p of PATHS) {
      await runLoad(tresty.url(p), { tool: 'wrk', connections: 64, seconds: 1, bodyBytes: p === '/hello' ? 0 : BYTES });
      const a = threads([tresty.pid, uds.pid]);
      const ia = idle();
      const res = await runLoad(tresty.url(p), { tool: 'wrk', connections: 64, seconds: SECONDS, bodyBytes: p === '/hello' ? 0 : BYTES });
      const b = threads([tresty.pid, uds.pid]);
      const ib = idle();
      const g = new Map();
      for (const [k, t] of b) {
        const w = a.get(k) ?? { run: 0, slices: 0 };
        const name = k.startsWith(`${uds.pid}/`) ? 'uds server' : group(t.comm);
        const e = g.get(name) ?? { run: 0, slices: 0 };
        e.run += t.run - w.run; e.slices += t.slices - w.slices; g.set(name, e);
      }
      rows.push({ round: r, path: p, rps: res.rps, req: res.requests, g, idle: (ib.idle - ia.idle) / (ib.total - ia.total) });
    }
  }
} finally {
  await tresty.stop(); await uds.stop();
}
const names = ['worker main', 'poller', 'V8/libuv helpers', 'uds server', 'master'];
console.log(`POST ${BYTES} B (GET for /hello), wrk -t1 -c64, ${SECONDS} s x ${ROUNDS} rounds; per request: CPU µs and times put on a CPU`);
console.log(['path', 'req/s', 'machine idle', ...names.map((n) => `${n} µs / sw`)].join(' | '));
for (const r of rows) {
  console.log([r.path, Math.round(r.rps), `${(100 * r.idle).toFixed(0)}%`, ...names.map((n) => { const e = r.g.get(n); return e ? `${(e.run / 1e3 / r.req).toFixed(1)} / ${(e.slices / r.req).toFixed(2)}` : '-'; })].join(' | '));
}
