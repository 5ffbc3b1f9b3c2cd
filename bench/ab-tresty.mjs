#!/usr/bin/env node
// Two builds of tresty side by side on the same handlers: did a change cost request throughput?
//   node bench/ab-tresty.mjs --a /path/to/other/checkout [--b .] [--rounds 6] [--seconds 3]
// Each build runs one worker pinned to CPU 0 (taskset when there), the load generator unpinned; the
// builds take turns round after round and each ratio (b / a) is the median of its per-round ratios.
// Paths: hello (content only), chain (rewrite -> access -> content), filters (header and body
// filter over three prints), async (a handler that awaits).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { abRows, startBuild, taskset } from './lib/ab.mjs';
import { pickLoad } from './lib/load.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const A = path.resolve(opt('a', ''));
const B = path.resolve(opt('b', here));
const ROUNDS = Number(opt('rounds', 6));
const SECONDS = Number(opt('seconds', 3));
if (!opt('a')) { console.error('usage: node bench/ab-tresty.mjs --a OTHER_CHECKOUT [--b CHECKOUT] [--rounds N] [--seconds S]'); process.exit(2); }

const PATHS = {
  hello: 'location = /hello { content_by_js_block { ngx.say("hello world") } }',
  chain: 'location = /chain { rewrite_by_js_block { ngx.ctx.foo = 76 } access_by_js_block { ngx.ctx.foo = ngx.ctx.foo + 3 } content_by_js_block { ngx.say(ngx.ctx.foo) } }',
  filters: 'location = /filters { content_by_js_block { ngx.print("a"); ngx.print("b"); ngx.say("c") } header_filter_by_js_block { ngx.header["X-F"] = "1" } body_filter_by_js_block { if (ngx.arg[1]) ngx.arg[1] = ngx.arg[1].toUpperCase() } }',
  async: 'location = /async { content_by_js_block { await null; ngx.say("later") } }',
};

const setup = (prefix, port) => fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'),
  `worker_processes 1;\nevents {}\nhttp { access_log off; server { listen 127.0.0.1:${port};\n${Object.values(PATHS).join('\n')}\n} }\n`);

const tool = pickLoad(opt('load'));
const a = await startBuild(A, setup);
const b = await startBuild(B, setup);
try {
  const rows = await abRows(a, b, Object.keys(PATHS).map((name) => ({ name: `/${name}`, path: `/${name}` })), { tool, rounds: ROUNDS, seconds: SECONDS });
  console.log(`a = ${A}\nb = ${B}\n${tool}, ${ROUNDS} rounds x ${SECONDS} s, 32 connections, one worker${taskset ? ' on CPU 0' : ''}, load ${os.loadavg()[0].toFixed(1)}`);
  console.table(rows);
} finally {
  a.stop();
  b.stop();
}
