#!/usr/bin/env node
// What `resolver NAME` costs a conf load: `tresty -t` on a conf whose resolver is an IP against
// the same conf naming it (`localhost`, from /etc/hosts, looked up at load by a short-lived
// node: src/config/host-lookup.ts), turns alternating by round; nginx -t on both for reference
// (its getaddrinfo is in-process). A worker's load pays nothing: it uses the master's answer.
//   node bench/resolver-load.mjs [--rounds 11]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 11;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-resolver-load-'));
const conf = (r) => `pid ${dir}/nginx.pid;\nevents {}\nhttp {\n  access_log off;\n  resolver ${r}:53;\n  server { listen 127.0.0.1:18099; }\n}\n`;
for (const [k, r] of [['ip', '127.0.0.1'], ['name', 'localhost']]) fs.writeFileSync(path.join(dir, `${k}.conf`), conf(r));

/** Wall ms of one `-t` run of `cmd` on conf `k` (it must pass). */
function run(cmd, k) {
  const args = cmd === 'tresty' ? [path.join(ROOT, 'bin/tresty.js'), '-t', '-p', dir, '-c', `${dir}/${k}.conf`] : ['-t', '-p', `${dir}/`, '-c', `${dir}/${k}.conf`, '-e', `${dir}/error.log`];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd === 'tresty' ? process.execPath : 'nginx', args, { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} -t ${k}: ${r.stderr}`);
  return ms;
}

const got = { tresty: { ip: [], name: [] }, nginx: { ip: [], name: [] } };
for (let i = 0; i < rounds; i++) {
  const order = i % 2 === 0 ? ['ip', 'name'] : ['name', 'ip'];
  for (const cmd of ['tresty', 'nginx']) for (const k of order) got[cmd][k].push(run(cmd, k));
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`${new Date().toISOString()} load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ${rounds} rounds`);
for (const cmd of ['tresty', 'nginx']) {
  const { ip, name } = got[cmd];
  const diffs = ip.map((v, i) => name[i] - v);
  console.log(`${cmd} -t: IP ${med(ip).toFixed(1)} ms (${Math.min(...ip).toFixed(1)}..${Math.max(...ip).toFixed(1)}), `
    + `NAME ${med(name).toFixed(1)} ms (${Math.min(...name).toFixed(1)}..${Math.max(...name).toFixed(1)}), `
    + `NAME - IP per round ${med(diffs).toFixed(1)} ms (${Math.min(...diffs).toFixed(1)}..${Math.max(...diffs).toFixed(1)})`);
}
fs.rmSync(dir, { recursive: true, force: true });
