#!/usr/bin/env node
// What the access modules cost on /hello (a content_by_js answer, access log on): the same
// build with a conf that uses none of them, with a `map` read in log_format, and with
// allow/deny; and, given --a OTHER_CHECKOUT, that build with the plain conf (did merely adding
// the modules cost anything?). One worker each, pinned to CPU 0 when taskset is there; the confs
// take turns round after round and each ratio (to the plain conf of this build) is the median of
// its per-round ratios. Prints the CPU of every thread of each server over its last run.
//   node bench/access-cost.mjs [--a OTHER_CHECKOUT] [--rounds 4] [--seconds 3]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pickLoad, runLoad } from './lib/load.mjs';
import { freePort, waitForHttp } from './lib/net.mjs';
import { median } from './lib/stats.mjs';
import { cpuDelta, describeCpu, snapshot } from './lib/threads.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(opt('rounds', 4));
const SECONDS = Number(opt('seconds', 3));
const OTHER = opt('a', null);

const HELLO = 'content_by_js_block { ngx.say("hello world") }';
const VARIANTS = {
  plain: { http: "log_format f '$remote_addr \"$request\" $status';", loc: HELLO },
  'map in log_format': {
    http: "map $http_user_agent $kind { default other; ~*curl cli; ~*wrk bench; } log_format f '$remote_addr \"$request\" $status $kind';",
    loc: HELLO,
  },
  'allow/deny': { http: "log_format f '$remote_addr \"$request\" $status';", loc: `allow 10.0.0.0/8; allow 127.0.0.1; deny all; ${HELLO}` },
};

const taskset = spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0 && os.cpus().length > 1;

async function start(dir, v) {
  const port = await freePort();
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'access-cost-'));
  fs.mkdirSync(path.join(prefix, 'conf'));
  fs.mkdirSync(path.join(prefix, 'logs'));
  fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'), `worker_processes 1;\nevents {}\nhttp { ${v.http} access_log logs/access.log f;
  server { listen 127.0.0.1:${port}; location = /hello { ${v.loc} } } }\n`);
  const cmd = [process.execPath, path.join(dir, 'bin', 'tresty.js'), '-p', prefix, '-c', 'conf/nginx.conf'];
  const child = taskset ? spawn('taskset', ['-c', '0', ...cmd], { stdio: 'ignore' }) : spawn(cmd[0], cmd.slice(1), { stdio: 'ignore' });
  await waitForHttp(`http://127.0.0.1:${port}/hello`, { proc: { child } });
  return { port, pid: child.pid, stop: () => { child.kill('SIGTERM'); fs.rmSync(prefix, { recursive: true, force: true }); } };
}

const tool = pickLoad(opt('load'));
const servers = [];
for (const [name, v] of Object.entries(VARIANTS)) servers.push({ name, build: 'this', s: await start(here, v) });
if (OTHER) servers.push({ name: 'plain', build: path.resolve(OTHER), s: await start(path.resolve(OTHER), VARIANTS.plain) });
const load0 = os.loadavg()[0];
try {
  const rps = new Map(servers.map((x) => [x, []]));
  const ratios = new Map(servers.map((x) => [x, []]));
  const cpu = new Map();
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? servers : [...servers].reverse();
    const got = new Map();
    for (const x of order) {
      const before = snapshot([x.s.pid]);
      const res = await runLoad(`http://127.0.0.1:${x.s.port}/hello`, { tool, connections: 32, seconds: SECONDS, threads: 1 });
      cpu.set(x, describeCpu(cpuDelta(before, snapshot([x.s.pid])), SECONDS));
      got.set(x, res.rps);
      rps.get(x).push(res.rps);
    }
    for (const x of servers) ratios.get(x).push(got.get(x) / got.get(servers[0]));
  }
  console.log(`${tool}, ${ROUNDS} rounds x ${SECONDS} s, 32 connections, one worker${taskset ? ' on CPU 0' : ''}; load average ${load0.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end`);
  console.table(servers.map((x) => ({
    conf: x.name, build: x.build === 'this' ? 'this' : x.build, 'req/s (median)': Math.round(median(rps.get(x))),
    '/ plain (median)': median(ratios.get(x)).toFixed(3),
    'min..max': `${Math.min(...ratios.get(x)).toFixed(2)}..${Math.max(...ratios.get(x)).toFixed(2)}`,
  })));
  for (const x of servers) console.log(`CPU, ${x.name} (${x.build}), last run:\n${cpu.get(x)}`);
} finally {
  for (const x of servers) x.s.stop();
}
