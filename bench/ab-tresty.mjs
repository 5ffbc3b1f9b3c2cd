#!/usr/bin/env node
// Two builds of tresty side by side on the same handlers: did a change cost request throughput?
//   node bench/ab-tresty.mjs --a /path/to/other/checkout [--b .] [--rounds 6] [--seconds 3]
// Each build runs one worker pinned to CPU 0 (taskset when there), the load generator unpinned; the
// builds take turns round after round and each ratio (b / a) is the median of its per-round ratios.
// Paths: hello (content only), chain (rewrite -> access -> content), filters (header and body
// filter over three prints), async (a handler that awaits).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pickLoad, runLoad } from './lib/load.mjs';
import { median } from './lib/stats.mjs';

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

const taskset = spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0 && os.cpus().length > 1;

function freePort() {
  return new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}

async function start(dir) {
  const port = await freePort();
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-tresty-'));
  fs.mkdirSync(path.join(prefix, 'conf'));
  fs.mkdirSync(path.join(prefix, 'logs'));
  fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'), `worker_processes 1;\nevents {}\nhttp { access_log off; server { listen 127.0.0.1:${port};\n${Object.values(PATHS).join('\n')}\n} }\n`);
  const cmd = [process.execPath, path.join(dir, 'bin', 'tresty.js'), '-p', prefix, '-c', 'conf/nginx.conf'];
  const child = taskset ? spawn('taskset', ['-c', '0', ...cmd], { stdio: 'ignore' }) : spawn(cmd[0], cmd.slice(1), { stdio: 'ignore' });
  for (let i = 0; i < 400; i++) {
    const ok = await new Promise((res) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); res(true); }); s.on('error', () => res(false)); });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, stop: () => { child.kill('SIGTERM'); fs.rmSync(prefix, { recursive: true, force: true }); } };
}

const tool = pickLoad(opt('load'));
const a = await start(A);
const b = await start(B);
try {
  const rows = [];
  for (const name of Object.keys(PATHS)) {
    const ratios = [];
    const rps = { a: [], b: [] };
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which goes first, so drift in the machine's load falls on both sides.
      const order = r % 2 === 0 ? [['a', a], ['b', b]] : [['b', b], ['a', a]];
      const got = {};
      for (const [k, s] of order) {
        const res = await runLoad(`http://127.0.0.1:${s.port}/${name}`, { tool, connections: 32, seconds: SECONDS, threads: 1 });
        got[k] = res.rps;
        rps[k].push(res.rps);
      }
      ratios.push(got.b / got.a);
    }
    rows.push({ path: `/${name}`, 'a req/s': Math.round(median(rps.a)), 'b req/s': Math.round(median(rps.b)), 'b / a (median)': median(ratios).toFixed(3), 'min..max': `${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)}` });
  }
  console.log(`a = ${A}\nb = ${B}\n${tool}, ${ROUNDS} rounds x ${SECONDS} s, 32 connections, one worker${taskset ? ' on CPU 0' : ''}, load ${os.loadavg()[0].toFixed(1)}`);
  console.table(rows);
} finally {
  a.stop();
  b.stop();
}
