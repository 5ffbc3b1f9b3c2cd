#!/usr/bin/env node
// Two builds of tresty side by side on a JS handler's answer through `gzip on` (the JS gzip
// filter: content_by_js and proxied answers): a 700-byte and a 20 KB page with Accept-Encoding
// gzip, the 700-byte page plain for reference, a body flushed in two parts (the stream path), and
// two static files: one gzip_static serves as FILE.gz, one over 64 KB gzip compresses.
//   node bench/ab-gzip.mjs --a /path/to/previous/checkout [--b .] [--rounds 6] [--seconds 3]
// As bench/lib/ab.mjs runs two builds: one worker each on CPU 0, wrk unpinned, turns by round.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { abWrkMain } from './lib/ab.mjs';

const GZ = { 'Accept-Encoding': 'gzip, deflate' };
// [name, path, request headers, what it exercises]
const PATHS = [
  ['700 B, AE gzip', '/p700', GZ, 'ngx.say of a 700-byte page, compressed'],
  ['20 KB, AE gzip', '/p20k', GZ, 'ngx.say of a 20 KB page, compressed'],
  ['700 B, plain', '/p700', {}, 'the same page without Accept-Encoding'],
  ['streamed, AE gzip', '/stream', GZ, 'two ngx.print with ngx.flush between: the stream path'],
  ['gzip_static, AE gzip', '/s/page.html', GZ, 'page.html.gz served in its place'],
  ['100 KB file, AE gzip', '/f/100k.html', GZ, 'a static file over 64 KB, compressed'],
];

const CONF = (port) => `worker_processes 1;
events {}
http {
  access_log off;
  default_type text/html;
  gzip on;
  server {
    listen 127.0.0.1:${port};
    location = /p700 { content_by_js_block { ngx.say("<p>" + "hello world ".repeat(58) + "</p>") } }
    location = /p20k { content_by_js_block { ngx.say("<p>the quick brown fox jumps over the lazy dog</p>\\n".repeat(400)) } }
    location /s/ { root html; gzip_static on; }
    location /f/ { root html; }
    location = /stream { content_by_js_block { ngx.print("<p>" + "first part ".repeat(32)); ngx.flush(); ngx.say("second part ".repeat(32) + "</p>") } }
  }
}
`;

function setup(prefix, port) {
  fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'), CONF(port));
  for (const d of ['s', 'f']) fs.mkdirSync(path.join(prefix, 'html', d), { recursive: true });
  const page = `<p>${'hello world '.repeat(58)}</p>\n`;
  fs.writeFileSync(path.join(prefix, 'html', 's', 'page.html'), page);
  fs.writeFileSync(path.join(prefix, 'html', 's', 'page.html.gz'), zlib.gzipSync(page));
  fs.writeFileSync(path.join(prefix, 'html', 'f', '100k.html'), '<p>the quick brown fox jumps over the lazy dog</p>\n'.repeat(2000));
}

await abWrkMain('ab-gzip.mjs', PATHS, setup);
