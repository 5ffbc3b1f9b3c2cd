#!/usr/bin/env node
// Two builds of tresty side by side on a Debian-like nginx.conf (gzip on, charset utf-8, security
// add_headers, `try_files $uri $uri/ =404`, `expires 1h` on /static/): what the native engine
// keeps of such a conf. Before this engine knew gzip/charset/expires/try_files, every location
// of it went to JS.
//   node bench/ab-stock-conf.mjs --a /path/to/previous/checkout [--b .] [--rounds 6] [--seconds 3]
// As bench/lib/ab.mjs runs two builds: one worker each on CPU 0, wrk unpinned, turns by round.
import fs from 'node:fs';
import path from 'node:path';
import { abWrkMain } from './lib/ab.mjs';

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

await abWrkMain('ab-stock-conf.mjs', PATHS, setup);
