#!/usr/bin/env node
// What a proxied 1 KB request costs in tresty's JavaScript alone, per core, before moving the
// upstream transport into the native engine (bench/README.md, "Gateway: proxy and TLS"). The same
// tresty worker, conf/bench/proxy-tresty.conf, four ways, in alternating rounds:
//   proxied  to a real upstream (nginx serving the file, on the load generator's core), the
//            upstream socket in the native engine (TRESTY_PROXY_TRANSPORT unset, the default)
//   net      the same over node:net sockets (TRESTY_PROXY_TRANSPORT=net)
//   read     no upstream socket: fake-upstream.mjs answers from memory, one callback per answer
//   batch    the same, the answer inside the engine's batch (what the native transport would give)
//   local    tresty answers the bytes itself (content_by_js), no proxy at all
// and prints worker CPU µs per request (all threads of the worker and master; steadier than
// req/s on a busy machine). Alone: node bench/proxy-proto/run.mjs [--rounds 3] [--seconds 3]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, waitForHttp } from '../lib/net.mjs';
import { pinned, usPerRequest, wrkRun, writeConf } from '../lib/pinned.mjs';
import { dropDir, tempDir } from '../lib/procs.mjs';
import { median } from '../lib/stats.mjs';
import { ROOT } from '../lib/tresty-dist.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '3' } } });
const rounds = Number(opt.rounds);
const seconds = Number(opt.seconds);
const CONF = path.join(ROOT, 'conf', 'bench');

const dir = tempDir('proxy-proto');
mkdirSync(path.join(dir, 'www'), { recursive: true });
mkdirSync(path.join(dir, 'logs'), { recursive: true });
writeFileSync(path.join(dir, 'www', '1024'), Buffer.alloc(1024, 'x'));
const up = await freePort();
const conf = (name, vars) => writeConf(path.join(dir, `${name}.conf`), readFileSync(path.join(CONF, `proxy-${name}.conf`), 'utf8'), { DIR: dir, ...vars });
const upstream = pinned(0, 'nginx', ['-p', `${dir}/`, '-c', conf('upstream', { PORT: up }), '-e', path.join(dir, 'upstream-error.log')]);
await waitForHttp(`http://127.0.0.1:${up}/1024`, { proc: upstream });

const WAYS = [
  { name: 'proxied', path: '1024', env: {} },
  { name: 'net', path: '1024', env: { TRESTY_PROXY_TRANSPORT: 'net' } },
  { name: 'read', path: '1024', env: { TRESTY_FAKE_UPSTREAM_MODE: 'read' } },
  { name: 'batch', path: '1024', env: { TRESTY_FAKE_UPSTREAM_MODE: 'batch' } },
  { name: 'local', path: 'local/1024', env: {} },
];
const results = new Map(WAYS.map((w) => [w.name, []]));
try {
  for (let r = 0; r < rounds; r++) {
    for (const w of WAYS) {
      const port = await freePort();
      const cfg = conf('tresty', { PORT: port, UP: up, SINK: 1 });
      const fake = w.env.TRESTY_FAKE_UPSTREAM_MODE ? ['--import', path.join(here, 'fake-upstream.mjs')] : [];
      const p = pinned(1, process.execPath, [...fake, path.join(ROOT, 'bin', 'tresty.js'), '-p', dir, '-c', cfg], {
        cwd: dir, env: { ...process.env, ...w.env, TRESTY_FAKE_UPSTREAM_PORT: String(up) },
      });
      const url = `http://127.0.0.1:${port}/${w.path}`;
      await waitForHttp(url, { proc: p, timeoutMs: 30_000 });
      await wrkRun(url, { core: 0, seconds: 1, connections: 50 });
      const run = await wrkRun(url, { core: 0, seconds, connections: 50, watch: [p.child.pid] });
      results.get(w.name).push(usPerRequest(run, p.child.pid));
      await p.stop();
    }
  }
} finally {
  await upstream.stop();
  dropDir(dir);
}
const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
console.log(`1 KB, wrk -t1 -c50, ${rounds} round(s) x ${seconds} s, tresty on core 1; load average at the end ${load}`);
console.log('way      CPU µs/req (median)  rounds');
for (const [name, v] of results) console.log(`${name.padEnd(8)} ${median(v).toFixed(1).padStart(19)}  ${v.map((x) => x.toFixed(1)).join(' / ')}`);
