// Where a request's CPU and context switches go, per path, on the native engine (issue 10).
// Starts the UDS echo server and tresty (conf/bench/tresty.conf, 2 workers), then for each path
// in turn runs wrk (POST of --bytes) and reads every thread's schedstat before and after: run
// time and the number of times each thread was put on a CPU. Prints µs of CPU and switches per
// request by thread group. Usage: node bench/ffi-http-probe.mjs [--bytes 512] [--seconds 3] [--rounds 2]
import path from 'node:path';
import { startTresty } from './lib/servers.mjs';
import { startUdsEcho } from './lib/uds-server.mjs';
import { runLoad } from './lib/load.mjs';
import { cpuDelta, machineJiffies, snapshot } from './lib/threads.mjs';
import { tempDir } from './lib/procs.mjs';

const arg = (n, d) => { const i = process.argv.indexOf(`--${n}`); return i > 0 ? process.argv[i + 1] : d; };
const BYTES = Number(arg('bytes', 512));
const SECONDS = Number(arg('seconds', 3));
const ROUNDS = Number(arg('rounds', 2));
const PATHS = (arg('paths', '/hello,/echo-js,/echo-ffi,/echo-fn,/echo-uds')).split(',');

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
      const a = snapshot([tresty.pid, uds.pid]);
      const ia = machineJiffies();
      const res = await runLoad(tresty.url(p), { tool: 'wrk', connections: 64, seconds: SECONDS, bodyBytes: p === '/hello' ? 0 : BYTES });
      const ib = machineJiffies();
      const g = new Map();
      for (const row of cpuDelta(a, snapshot([tresty.pid, uds.pid]))) {
        for (const t of row.threads) {
          const name = row.pid === uds.pid ? 'uds server' : group(t.name);
          const e = g.get(name) ?? { run: 0, slices: 0 };
          e.run += t.seconds * 1e9; e.slices += t.slices; g.set(name, e);
        }
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
