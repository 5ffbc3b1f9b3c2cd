#!/usr/bin/env node
// Two builds of tresty side by side on a Debian-like nginx.conf (gzip on, charset utf-8, security
// add_headers, `try_files $uri $uri/ =404`, `expires 1h` on /static/): what the native engine
// keeps of such a conf. Before this engine knew gzip/charset/expires/try_files, every location
// of it went to JS.
//   node bench/ab-stock-conf.mjs --a /path/to/previous/checkout [--b .] [--rounds 6] [--seconds 3]
// Each build runs one worker pinned to CPU 0 (taskset when there), wrk unpinned; the builds take
// turns round after round and each ratio (b / a) is the median of its per-round ratios.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { haveWrk, runLoad } from './lib/load.mjs';
import { median } from './lib/stats.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const B = path.resolve(opt('b', here));
const ROUNDS = Number(opt('rounds', 6));
const SECONDS = Number(opt('seconds', 3));
if (!opt('a') || args.includes('--help')) {
  console.error('usage: node bench/ab-stock-conf.mjs --a OTHER_CHECKOUT [--b CHECKOUT] [--rounds N] [--seconds S]  (needs wrk)');
  process.exit(opt('a') ? 0 : 2);
}
const A = path.resolve(opt('a'));
if (!haveWrk()) { console.error('ab-stock-conf: wrk is not installed (it sends Accept-Encoding)'); process.exit(2); }

const GZ = { 'Accept-Encoding': 'gzip, deflate' };
// [name, path, request headers, what it exercises]
const PATHS = [
  ['1 KB .txt', '/1k.txt', {}, 'static file, charset (text/plain is not in gzip_types)'],
  ['1 KB .txt, AE gzip', '/1k.txt', GZ, 'a browser: gzip on, but not for this type'],
  ['/ (index)', '/', {}, 'try_files $uri $uri/ =404, then index.html'],
  ['/ AE gzip', '/', GZ, 'gzip compresses index.html: JS in both builds'],
  ['/static/1k.css', '/static/1k.css', {}, 'expires 1h'],
  ['/missing 404', '/missing', {}, 'try_files =404'],
];

const CONF = (port) => `worker_processes 1;
events { worker_connections 768; }
http {
  sendfile on; tcp_nopush on; types_hash_max_size 2048;
  types { text/html html; text/plain txt; text/css css; }
  default_type application/octet-stream;
  access_log off;
  gzip on;
  charset utf-8;
  server {
    listen 127.0.0.1:${port} default_server;
    root html;
    index index.html index.htm index.nginx-debian.html;
    server_name _;
    add_header X-Frame-Options SAMEORIGIN;
    add_header X-Content-Type-Options nosniff;
    location / { try_files $uri $uri/ =404; }
    location /static/ { expires 1h; }
  }
}
`;

const taskset = spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0 && os.cpus().length > 1;

function freePort() {
  return new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}

async function start(dir) {
  const port = await freePort();
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-stock-'));
  for (const d of ['conf', 'logs', 'html/static']) fs.mkdirSync(path.join(prefix, d), { recursive: true });
  fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'), CONF(port));
  const kb = 'x'.repeat(1023) + '\n';
  fs.writeFileSync(path.join(prefix, 'html', '1k.txt'), kb);
  fs.writeFileSync(path.join(prefix, 'html', 'static', '1k.css'), kb);
  fs.writeFileSync(path.join(prefix, 'html', 'index.html'), `<html><body>${'welcome '.repeat(80)}</body></html>\n`);
  const cmd = [process.execPath, path.join(dir, 'bin', 'tresty.js'), '-p', prefix, '-c', 'conf/nginx.conf'];
  const child = taskset ? spawn('taskset', ['-c', '0', ...cmd], { stdio: 'ignore' }) : spawn(cmd[0], cmd.slice(1), { stdio: 'ignore' });
  for (let i = 0; i < 400; i++) {
    const ok = await new Promise((res) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); res(true); }); s.on('error', () => res(false)); });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, stop: () => { child.kill('SIGTERM'); fs.rmSync(prefix, { recursive: true, force: true }); } };
}

const a = await start(A);
const b = await start(B);
try {
  const rows = [];
  for (const [name, p, headers, what] of PATHS) {
    const ratios = [];
    const rps = { a: [], b: [] };
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which goes first, so drift in the machine's load falls on both sides.
      const order = r % 2 === 0 ? [['a', a], ['b', b]] : [['b', b], ['a', a]];
      const got = {};
      for (const [k, s] of order) {
        const res = await runLoad(`http://127.0.0.1:${s.port}${p}`, { tool: 'wrk', connections: 32, seconds: SECONDS, threads: 1, headers });
        got[k] = res.rps;
        rps[k].push(res.rps);
      }
      ratios.push(got.b / got.a);
    }
    rows.push({ path: name, 'a req/s': Math.round(median(rps.a)), 'b req/s': Math.round(median(rps.b)), 'b / a (median)': median(ratios).toFixed(2), 'min..max': `${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)}`, what });
  }
  console.log(`${new Date().toISOString()}\na = ${A}\nb = ${B}\nwrk, ${ROUNDS} rounds x ${SECONDS} s, 32 connections, one worker${taskset ? ' on CPU 0' : ''}, load ${os.loadavg()[0].toFixed(1)}`);
  console.table(rows);
} finally {
  a.stop();
  b.stop();
}
