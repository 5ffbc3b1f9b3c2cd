#!/usr/bin/env node
// CPU per request of the phase pipeline alone (no sockets, no HTTP parser), for two builds side
// by side: what a change to src/request, src/api or src/phases costs each request. Measured as
// process CPU time (user + system) per request, which other processes' load disturbs far less
// than throughput does.
//   node bench/pipeline-cpu.mjs --a OTHER_CHECKOUT [--b CHECKOUT] [--rounds 7] [--n 20000]
// Each round runs every path on both builds (in alternating order) in child processes; the
// ratio b / a is the median of the per-round ratios.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PATHS = {
  hello: 'location = /hello { content_by_js_block { ngx.say("hello world") } }',
  chain: 'location = /chain { rewrite_by_js_block { ngx.ctx.foo = 76 } access_by_js_block { ngx.ctx.foo = ngx.ctx.foo + 3 } content_by_js_block { ngx.say(ngx.ctx.foo) } }',
  filters: 'location = /filters { content_by_js_block { ngx.print("a"); ngx.print("b"); ngx.say("c") } header_filter_by_js_block { ngx.header["X-F"] = "1" } body_filter_by_js_block { if (ngx.arg[1]) ngx.arg[1] = ngx.arg[1].toUpperCase() } }',
  async: 'location = /async { content_by_js_block { await null; ngx.say("later") } }',
  set: 'location = /set { set $a "x"; set $b "$a-$uri"; content_by_js_block { ngx.say(ngx.var.b) } }',
};

/** Child mode: load one build, run `n` requests of `name`, print CPU microseconds per request. */
async function child(dir, name, n) {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-cpu-'));
  fs.mkdirSync(path.join(prefix, 'conf'));
  fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'), `error_log stderr;\nevents {}\nhttp { access_log off; server { listen 127.0.0.1:1;\n${Object.values(PATHS).join('\n')}\n} }\n`);
  const imp = (p) => import(pathToFileURL(path.join(dir, 'dist', p)).href);
  const { loadConf } = await imp('src/config/index.js');
  const { createWorkerPipeline } = await imp('src/phases/index.js');
  const { conf } = loadConf({ file: 'conf/nginx.conf', prefix });
  const pipe = await createWorkerPipeline(conf, { id: 0, count: 1 });
  const server = conf.http.servers[0];
  const url = `/${name}`;
  const one = () => new Promise((resolve) => {
    const ex = {
      method: 'GET', url, httpVersion: '1.1', headers: { host: 'b' }, rawHeaders: ['Host', 'b'], scheme: 'http',
      remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 80,
      body: (async function* () {})(), aborted: false, onAbort() {}, headersSent: false, bytesSent: 0,
      writeHead() { this.headersSent = true; }, write(c) { this.bytesSent += c.length; }, end() { resolve(); }, destroy() { resolve(); },
    };
    pipe.handle(ex, server);
  });
  for (let i = 0; i < 2000; i++) await one(); // warm up
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await one();
  const d = process.cpuUsage(t0);
  process.stdout.write(String((d.user + d.system) / n));
  fs.rmSync(prefix, { recursive: true, force: true });
  process.exit(0);
}

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
if (opt('child')) {
  await child(opt('dir'), opt('child'), Number(opt('n')));
} else {
  if (!opt('a')) { console.error('usage: node bench/pipeline-cpu.mjs --a OTHER_CHECKOUT [--b CHECKOUT] [--rounds N] [--n N]'); process.exit(2); }
  const A = path.resolve(opt('a'));
  const B = path.resolve(opt('b', path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')));
  const rounds = Number(opt('rounds', 7));
  const n = opt('n', '20000');
  const me = fileURLToPath(import.meta.url);
  const run = (dir, name) => {
    const r = spawnSync(process.execPath, [me, '--child', name, '--dir', dir, '--n', n], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${dir} ${name}: ${r.stderr}`);
    return Number(r.stdout);
  };
  const median = (xs) => { const s = [...xs].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
  const rows = [];
  for (const name of Object.keys(PATHS)) {
    const a = [], b = [], ratio = [];
    for (let i = 0; i < rounds; i++) {
      // Alternate which build goes first, so drift in the machine's load falls on both.
      let ua, ub;
      if (i % 2 === 0) { ua = run(A, name); ub = run(B, name); } else { ub = run(B, name); ua = run(A, name); }
      a.push(ua); b.push(ub); ratio.push(ub / ua);
    }
    rows.push({ path: `/${name}`, 'a µs/req': median(a).toFixed(2), 'b µs/req': median(b).toFixed(2), 'b / a (median)': median(ratio).toFixed(3), 'min..max': `${Math.min(...ratio).toFixed(2)}..${Math.max(...ratio).toFixed(2)}` });
  }
  console.log(`a = ${A}\nb = ${B}\n${rounds} rounds x ${n} requests per path and build (CPU time of the process), load ${os.loadavg()[0].toFixed(1)}`);
  console.table(rows);
}
