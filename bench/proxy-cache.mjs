#!/usr/bin/env node
// proxy_cache per core: tresty answering a HIT against tresty proxying the same answer straight
// to the upstream (keep-alive), and nginx doing both, for 1 KB and 100 KB answers. The server
// under test runs on one core; wrk and the upstream (nginx, static files) share the other.
// Servers take turns round after round; figures are medians. Alone:
//   node bench/proxy-cache.mjs [--seconds S] [--rounds N] [--a CHECKOUT]
// --a: a HIT of another checkout's tresty (built) side by side with this one's and nginx's
// (the HIT cases only: "A HIT" is that checkout, "tresty HIT" this one).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { argsOrUsage } from './lib/usage.mjs';
import { freePort, waitForHttp } from './lib/net.mjs';
import { cores, have, pinned, usPerRequest, wrkRun, writeConf } from './lib/pinned.mjs';
import { dropDir, tempDir } from './lib/procs.mjs';
import { median } from './lib/stats.mjs';
import { ROOT } from './lib/tresty-dist.mjs';
import { loadavg } from './lib/ab-checkouts.mjs';

const SIZES = [1024, 100 * 1024];
const CONNECTIONS = 50;

const UPSTREAM = `daemon off; master_process off; worker_processes 1; pid __DIR__/upstream.pid;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:__PORT__; root __DIR__/www; location / { } } }`;

// The same two locations in both servers: /direct/ proxies every request, /cached/ is a HIT
// once the warm-up stored it.
const LOCATIONS = `
    location /direct/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://backend/; }
    location /cached/ {
      proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://backend/;
      proxy_cache c; proxy_cache_valid 200 1h;
    }`;

const TRESTY = `worker_processes 1; error_log logs/error.log warn; events { worker_connections 4096; }
http { access_log off;
  proxy_cache_path __DIR__/cache levels=1:2 keys_zone=c:10m;
  upstream backend { server 127.0.0.1:__UP__; keepalive 64; }
  server { listen 127.0.0.1:__PORT__; ${LOCATIONS} } }`;

const NGINX = `daemon off; master_process off; worker_processes 1; pid __DIR__/nginx.pid;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  proxy_temp_path __DIR__/proxy_temp; proxy_cache_path __DIR__/cache levels=1:2 keys_zone=c:10m;
  upstream backend { server 127.0.0.1:__UP__; keepalive 64; }
  server { listen 127.0.0.1:__PORT__; ${LOCATIONS} } }`;

async function start(kind, dir, core, vars, probe, root = ROOT) {
  const port = await freePort();
  const conf = writeConf(path.join(dir, `${kind}.conf`), { upstream: UPSTREAM, tresty: TRESTY, nginx: NGINX }[kind], { DIR: dir, PORT: port, ...vars });
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const p = kind === 'tresty'
    ? pinned(core, process.execPath, [path.join(root, 'bin', 'tresty.js'), '-p', dir, '-c', conf], { cwd: dir })
    : pinned(core, 'nginx', ['-p', `${dir}/`, '-c', conf, '-e', path.join(dir, `${kind}-error.log`)]);
  await waitForHttp(`http://127.0.0.1:${port}/${probe}`, { proc: p, timeoutMs: 30_000 });
  return { port, proc: p };
}

async function main() {
  const values = argsOrUsage('usage: node bench/proxy-cache.mjs [--seconds S] [--rounds N] [--a CHECKOUT]  (needs nginx and wrk)',
    { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, a: { type: 'string' } });
  const other = values.a === undefined ? null : path.resolve(values.a);
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  if (!have('nginx') || !have('wrk')) throw new Error('needs nginx (upstream and peer) and wrk');
  const { server: sCore, load: lCore } = cores();
  const dirs = ['upstream', 'tresty', 'nginx', ...(other === null ? [] : ['a'])].map((n) => tempDir(`proxy-cache-${n}`));
  mkdirSync(path.join(dirs[0], 'www'), { recursive: true });
  for (const n of SIZES) writeFileSync(path.join(dirs[0], 'www', String(n)), Buffer.alloc(n, 'x'));
  const up = await start('upstream', dirs[0], lCore, {}, '1024');
  const servers = {
    tresty: await start('tresty', dirs[1], sCore, { UP: up.port }, 'direct/1024'),
    nginx: await start('nginx', dirs[2], sCore, { UP: up.port }, 'direct/1024'),
  };
  if (other !== null) servers.A = await start('tresty', dirs[3], sCore, { UP: up.port }, 'direct/1024', other);
  const started = new Date().toISOString();
  const loadStart = loadavg();
  const rows = [];
  try {
    for (const size of SIZES) {
      const cases = other === null ? ['tresty direct', 'tresty HIT', 'nginx direct', 'nginx HIT'] : ['A HIT', 'tresty HIT', 'nginx HIT'];
      const runs = Object.fromEntries(cases.map((c) => [c, []]));
      const load = (c) => {
        const [who, what] = c.split(' ');
        const s = servers[who];
        return wrkRun(`http://127.0.0.1:${s.port}/${what === 'HIT' ? 'cached' : 'direct'}/${size}`, {
          core: lCore, seconds, connections: CONNECTIONS, watch: [s.proc.child.pid, up.proc.child.pid],
        });
      };
      for (const c of cases) await load(c); // warm-up (and the entries stored)
      for (let r = 0; r < rounds; r++) {
        for (const c of cases.map((_, i) => cases[(i + r) % cases.length])) runs[c].push(await load(c));
      }
      for (const c of cases) {
        const pid = servers[c.split(' ')[0]].proc.child.pid;
        const us = runs[c].map((x) => usPerRequest(x, pid));
        rows.push({
          size, case: c, rps: median(runs[c].map((x) => x.rps)), usPerReq: median(us), usMin: Math.min(...us), usMax: Math.max(...us),
          errors: runs[c].reduce((a, x) => a + x.errors, 0),
        });
      }
    }
  } finally {
    for (const s of [...Object.values(servers), up]) await s.proc.stop();
    for (const d of dirs) dropDir(d);
  }
  if (other !== null) console.log(`A: ${other}; tresty: ${ROOT}`);
  console.log(`proxy_cache per core (${started}; load average ${loadStart} -> ${loadavg()}; wrk -t1 -c${CONNECTIONS}, ${rounds} round(s) x ${seconds} s; server on core ${sCore ?? '-'}, wrk and upstream on core ${lCore ?? '-'})`);
  console.log('| answer | case | req/s | CPU µs/req | spread (min-max) | errors |\n| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(`| ${r.size / 1024} KB | ${r.case} | ${Math.round(r.rps)} | ${r.usPerReq.toFixed(1)} | ${r.usMin.toFixed(1)}-${r.usMax.toFixed(1)} | ${r.errors} |`);
  }
}

await main();
