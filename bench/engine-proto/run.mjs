#!/usr/bin/env node
// The engine's thread layout, measured per core before building it (bench/README.md, "Engine
// thread layout"). Each candidate serves GET /hello with an answer built in JS; the peers serve the
// same. Server pinned to core 1, wrk -t1 -c50 pinned to core 0, keep-alive, alternating rounds.
//   make -C bench/engine-proto && node bench/engine-proto/run.mjs [--rounds 5] [--seconds 5] [--hog]
// --hog runs one busy process per core for the whole run (a saturated machine).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startHogs } from '../lib/hog.mjs';
import { freePort, waitForHttp } from '../lib/net.mjs';
import { describeShares, SERVER_CORE, spawnPinned, sumCpu, wrkPinned } from '../lib/percore.mjs';
import { dropDir, tempDir } from '../lib/procs.mjs';
import { median, spread } from '../lib/stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({ options: {
  rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '5' },
  hog: { type: 'boolean', default: false }, only: { type: 'string' },
} });
const rounds = Number(opt.rounds);
const seconds = Number(opt.seconds);

const MODULES = ['/usr/lib/nginx/modules', '/usr/share/nginx/modules'].find((d) => existsSync(`${d}/ngx_http_lua_module.so`));

const node = (script) => (port) => spawnPinned(SERVER_CORE, process.execPath, [path.join(here, script), String(port)]);
const CANDIDATES = [
  { id: 'b-napi', label: '(b) event loop drives epoll, N-API uv_poll', start: node('server-poll.mjs') },
  { id: 'b-koffi', label: '(b) event loop drives epoll, koffi + uv_poll', start: node('server-koffi.mjs') },
  { id: 'a-thread', label: '(a) I/O thread + two rings, doorbells', start: node('server-thread.mjs') },
  { id: 'node-http', label: 'bare node:http', start: node('server-node-http.mjs') },
  { id: 'node-net', label: 'bare node:net, fixed answer', start: node('server-node-net.mjs') },
  ...(MODULES ? [{
    id: 'nginx', label: 'nginx + lua, 1 worker',
    start(port) {
      const dir = tempDir('proto-nginx');
      const conf = path.join(dir, 'nginx.conf');
      writeFileSync(conf, readFileSync(path.join(here, 'nginx-1.conf'), 'utf8')
        .replaceAll('__MODULES__', MODULES).replaceAll('__PREFIX__', dir).replaceAll('__PORT__', String(port)));
      const p = spawnPinned(SERVER_CORE, 'nginx', ['-p', `${dir}/`, '-c', conf, '-e', path.join(dir, 'error.log')]);
      const stop = p.stop;
      p.stop = async () => { await stop(); dropDir(dir); };
      return p;
    },
  }] : []),
].filter((c) => !opt.only || opt.only.split(',').includes(c.id));

if (spawnSync('make', ['-s', '-C', here]).status !== 0) throw new Error('make -C bench/engine-proto failed');
const hogs = opt.hog ? startHogs({ cores: [0, 1] }) : null;
const servers = [];
try {
  for (const c of CANDIDATES) {
    const port = await freePort();
    const proc = c.start(port);
    await waitForHttp(`http://127.0.0.1:${port}/hello`, { proc });
    servers.push({ ...c, proc, url: `http://127.0.0.1:${port}/hello`, runs: [] });
  }
  for (const s of servers) await wrkPinned(s.url, { seconds: 1 }); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < servers.length; i++) {
      const s = servers[(i + r) % servers.length];
      const run = await wrkPinned(s.url, { seconds, pids: [s.proc.child.pid] });
      s.runs.push(run);
      process.stderr.write(`round ${r + 1}/${rounds} ${s.id}: ${Math.round(run.rps)} req/s\n`);
    }
  }
} finally {
  for (const s of servers) await s.proc.stop();
  await hogs?.stop();
}

const base = (id) => servers.find((s) => s.id === id);
const ratio = (s, id) => {
  const b = base(id);
  if (!b) return '';
  const per = s.runs.map((x, i) => x.rps / b.runs[i].rps);
  return `${median(per).toFixed(2)}x ±${((spread(per) / 2) * 100).toFixed(0)}%`;
};
console.log(`\nper core: server on core ${SERVER_CORE}, wrk -t1 -c50 on core 0, ${rounds} rounds x ${seconds} s${opt.hog ? ', machine saturated (one hog per core)' : ''}, ${new Date().toISOString()}`);
console.log('| layout / server | req/s (median) | rounds | p99 ms | / node:http | / nginx+lua | req per CPU-ms | CPU per thread (cores) |');
console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |');
for (const s of servers) {
  const rps = median(s.runs.map((x) => x.rps));
  const p99 = median(s.runs.map((x) => x.p99Ms));
  const errs = s.runs.reduce((a, x) => a + x.errors, 0);
  const shares = sumCpu(s.runs);
  const cores = shares.reduce((a, t) => a + t.share, 0);
  // Requests per CPU-millisecond of the server: on a shared machine, what a request costs.
  const perMs = cores > 0 ? median(s.runs.map((x) => x.rps)) / cores / 1000 : NaN;
  console.log(`| ${s.label} | ${Math.round(rps).toLocaleString('en')}${errs ? ` (${errs} errors)` : ''} | ${s.runs.map((x) => Math.round(x.rps / 1000)).join('/')}k | ${p99.toFixed(2)} | ${ratio(s, 'node-http')} | ${ratio(s, 'nginx')} | ${perMs.toFixed(1)} | ${describeShares(shares)} |`);
}
