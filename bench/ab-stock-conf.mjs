#!/usr/bin/env node
// Two builds of tresty side by side on a Debian-like nginx.conf (gzip on, charset utf-8, security
// add_headers, `try_files $uri $uri/ =404`, `expires 1h` on /static/): what the native engine
// keeps of such a conf. Before this engine knew gzip/charset/expires/try_files, every location
// of it went to JS.
//   node bench/ab-stock-conf.mjs --a /path/to/previous/checkout [--b .] [--rounds 6] [--seconds 3]
// As bench/lib/ab.mjs runs two builds: one worker each on CPU 0, wrk unpinned, turns by round.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { abRows, startBuild, taskset } from './lib/ab.mjs';
import { haveWrk } from './lib/load.mjs';

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
  ['/ AE gzip', '/', GZ, 'gzip compresses index.html: JS in a, the engine in b'],
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

function setup(prefix, port) {
  fs.mkdirSync(path.join(prefix, 'html', 'static'), { recursive: true });
  fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'), CONF(port));
  const kb = 'x'.repeat(1023) + '\n';
  fs.writeFileSync(path.join(prefix, 'html', '1k.txt'), kb);
  fs.writeFileSync(path.join(prefix, 'html', 'static', '1k.css'), kb);
  fs.writeFileSync(path.join(prefix, 'html', 'index.html'), `<html><body>${'welcome '.repeat(80)}</body></html>\n`);
}

const a = await startBuild(A, setup);
const b = await startBuild(B, setup);
try {
  const rows = await abRows(a, b, PATHS.map(([name, p, headers, what]) => ({ name, path: p, headers, what })), { tool: 'wrk', rounds: ROUNDS, seconds: SECONDS });
  console.log(`${new Date().toISOString()}\na = ${A}\nb = ${B}\nwrk, ${ROUNDS} rounds x ${SECONDS} s, 32 connections, one worker${taskset ? ' on CPU 0' : ''}, load ${os.loadavg()[0].toFixed(1)}`);
  console.table(rows);
} finally {
  a.stop();
  b.stop();
}
