// ngx.shared.DICT and tresty/limit against OpenResty, side by side in one run (bench/README.md,
// "Shared dictionaries"). Three parts:
//
//   loop        get / set / incr from a content handler looping over 1000 keys, per operation,
//               against the same loop in Lua on nginx + lua-nginx-module (lua-resty-core's
//               shdict); one worker each, both pinned to core 0; CPU time per op measured inside
//               the handler (process.cpuUsage / os.clock), so HTTP does not count.
//   contention  2 workers incrementing one key as fast as they can: the final count must be
//               exact; ops/s of the pair, and of one worker alone. tresty and OpenResty.
//   limit       the hello benchmark with and without limit_req.enforce() on every request (one
//               worker pinned to core 0, wrk -t1 -c64 pinned to core 1): what limiting costs.
//
//   node bench/shdict.mjs [--rounds 7] [--ops 300000] [--seconds 3] [--only loop,contention,limit]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fetchOnce, freePort, waitForHttp } from './lib/net.mjs';
import { spawnTracked, tempDir } from './lib/procs.mjs';
import { median, spread } from './lib/stats.mjs';
import { fmt, toText } from './lib/table.mjs';
import { cpuDelta, describeCpu, snapshot } from './lib/threads.mjs';
import { ROOT } from './lib/tresty-dist.mjs';
import { nginxMissing } from './lib/servers.mjs';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    ops: { type: 'string', default: '300000' },
    seconds: { type: 'string', default: '3' },
    only: { type: 'string', default: 'loop,contention,limit' },
  },
});
const ROUNDS = Number(opt.rounds);
const OPS = Number(opt.ops);
const SECONDS = Number(opt.seconds);
const ONLY = new Set(opt.only.split(','));
const MODULES = ['/usr/lib/nginx/modules', '/usr/share/nginx/modules'].find((d) => existsSync(path.join(d, 'ngx_http_lua_module.so')));
const TASKSET = spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).stdout.trim();
const pin = (core, cmd, args) => (TASKSET && os.availableParallelism() > 1 ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);
const log = (s) => process.stderr.write(`${s}\n`);

if (!existsSync(path.join(ROOT, 'native', 'build', 'tresty_shdict.node'))) {
  console.error('bench/shdict: native/build/tresty_shdict.node is not built (npm run build, with Node\'s headers)');
  process.exit(1);
}

// ---- the handlers: the same loops in JS and in Lua ----

const JS_LOOP = `
const K = Array.from({ length: 1000 }, (_, i) => 'user:' + i + ':quota');
const N = K.map((k) => k + ':n');
const V = 'v'.repeat(16);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
export default (ngx) => {
  const d = ngx.shared.bench;
  const n = Number(ngx.var.arg_n);
  for (let i = 0; i < 1000; i++) { d.set(K[i], V); d.set(N[i], 0); }
  let t = cpu();
  for (let i = 0; i < n; i++) d.get(K[i % 1000]);
  const get = (cpu() - t) / n;
  t = cpu();
  for (let i = 0; i < n; i++) d.set(K[i % 1000], V);
  const set = (cpu() - t) / n;
  t = cpu();
  for (let i = 0; i < n; i++) d.incr(N[i % 1000], 1);
  const incr = (cpu() - t) / n;
  if (d.get(K[7])[0] !== V || d.get(N[7])[0] !== Math.ceil((n - 7) / 1000)) throw new Error('wrong values');
  ngx.say(JSON.stringify({ get, set, incr }));
};`;

const LUA_LOOP = `
local d = ngx.shared.bench
local n = tonumber(ngx.var.arg_n)
local K, N = {}, {}
for i = 0, 999 do K[i] = "user:" .. i .. ":quota"; N[i] = K[i] .. ":n" end
local V = string.rep("v", 16)
for i = 0, 999 do d:set(K[i], V); d:set(N[i], 0) end
local t = os.clock()
for i = 0, n - 1 do d:get(K[i % 1000]) end
local get = (os.clock() - t) / n * 1e9
t = os.clock()
for i = 0, n - 1 do d:set(K[i % 1000], V) end
local set = (os.clock() - t) / n * 1e9
t = os.clock()
for i = 0, n - 1 do d:incr(N[i % 1000], 1) end
local incr = (os.clock() - t) / n * 1e9
ngx.say(string.format('{"get":%f,"set":%f,"incr":%f}', get, set, incr))`;

// /hammer?n=N&round=R: both requests of a round meet at a barrier in the zone first (so they run
// at the same time, on two workers), then increment 'ctr' n times; ?solo=1 skips the barrier.
// Each answers its pid and when its loop began and ended (ms, one clock for the machine).
const JS_HAMMER = `
const now = () => performance.timeOrigin + performance.now();
export default (ngx) => {
  const d = ngx.shared.bench;
  const n = Number(ngx.var.arg_n);
  if (!ngx.var.arg_solo) {
    const k = 'ready:' + ngx.var.arg_round;
    d.incr(k, 1, 0);
    const t = now();
    while (d.get(k)[0] < 2) if (now() - t > 2000) { ngx.say(JSON.stringify({ pid: process.pid, timeout: true })); return; }
  }
  const start = now();
  for (let i = 0; i < n; i++) d.incr('ctr', 1, 0);
  ngx.say(JSON.stringify({ pid: process.pid, start, end: now() }));
};`;

const LUA_HAMMER = `
local d = ngx.shared.bench
local n = tonumber(ngx.var.arg_n)
if not ngx.var.arg_solo then
  local k = "ready:" .. ngx.var.arg_round
  d:incr(k, 1, 0)
  ngx.update_time()
  local t = ngx.now()
  while d:get(k) < 2 do
    ngx.update_time()
    if ngx.now() - t > 2 then ngx.say(string.format('{"pid":%d,"timeout":true}', ngx.worker.pid())); return end
  end
end
ngx.update_time()
local start = ngx.now() * 1000
for i = 1, n do d:incr("ctr", 1, 0) end
ngx.update_time()
ngx.say(string.format('{"pid":%d,"start":%f,"end":%f}', ngx.worker.pid(), start, ngx.now() * 1000))`;

const LIMITED = `
import { limit_req } from 'tresty/limit';
// A rate no client reaches: every request is let through, at the full cost of deciding.
const lim = limit_req.new('limits', 1e7, 1e7);
// A plain (not async) handler: enforce() answers a promise only when it must wait.
export default (ngx) => lim.enforce(ngx, ngx.var.remote_addr);`;

// limit_req.enforce() alone: CPU per call in a loop inside one request (no HTTP in it).
const ENFORCE_LOOP = `
import { limit_req } from 'tresty/limit';
const lim = limit_req.new('limits', 1e7, 1e7);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
export default (ngx) => {
  const n = 200000;
  const t = cpu();
  for (let i = 0; i < n; i++) lim.enforce(ngx, ngx.var.remote_addr);
  ngx.say(JSON.stringify({ ns: (cpu() - t) / n }));
};`;

function trestyConf(port, workers) {
  return `worker_processes ${workers};
error_log logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  js_shared_dict bench 64m;
  js_shared_dict limits 16m;
  server {
    listen 127.0.0.1:${port};
    location = /hello { content_by_js_block { ngx.say("hello world"); } }
    location = /limited { access_by_js_file limited.mjs; content_by_js_block { ngx.say("hello world"); } }
    location = /access { access_by_js_file noop.mjs; content_by_js_block { ngx.say("hello world"); } }
    location = /enforce-loop { content_by_js_file enforce-loop.mjs; }
    location = /loop { content_by_js_file loop.mjs; }
    location = /hammer { content_by_js_file hammer.mjs; }
    location = /reset { content_by_js_block { ngx.shared.bench.delete('ctr'); ngx.say('ok'); } }
    location = /ctr { content_by_js_block { ngx.say(ngx.shared.bench.get('ctr')[0]); } }
  }
}`;
}

function nginxConf(port, workers, dir) {
  return `load_module ${MODULES}/ndk_http_module.so;
load_module ${MODULES}/ngx_http_lua_module.so;
worker_processes ${workers};
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/cb; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  lua_shared_dict bench 64m;
  server {
    listen 127.0.0.1:${port};
    location = /hello { content_by_lua_block { ngx.say("hello world") } }
    location = /loop { content_by_lua_block { ${LUA_LOOP} } }
    location = /hammer { content_by_lua_block { ${LUA_HAMMER} } }
    location = /reset { content_by_lua_block { ngx.shared.bench:delete("ctr"); ngx.say("ok") } }
    location = /ctr { content_by_lua_block { ngx.say(ngx.shared.bench:get("ctr")) } }
  }
}`;
}

async function start(kind, workers, core) {
  const port = await freePort();
  const dir = tempDir(`shdict-${kind}`);
  let proc;
  if (kind === 'tresty') {
    mkdirSync(path.join(dir, 'conf'));
    mkdirSync(path.join(dir, 'logs'));
    writeFileSync(path.join(dir, 'conf', 'nginx.conf'), trestyConf(port, workers));
    writeFileSync(path.join(dir, 'loop.mjs'), JS_LOOP);
    writeFileSync(path.join(dir, 'hammer.mjs'), JS_HAMMER);
    writeFileSync(path.join(dir, 'limited.mjs'), LIMITED);
    writeFileSync(path.join(dir, 'noop.mjs'), 'export default (ngx) => {};\n');
    writeFileSync(path.join(dir, 'enforce-loop.mjs'), ENFORCE_LOOP);
    const [cmd, args] = core === undefined ? [process.execPath, [path.join(ROOT, 'bin', 'tresty.js'), '-p', dir]]
      : pin(core, process.execPath, [path.join(ROOT, 'bin', 'tresty.js'), '-p', dir]);
    proc = spawnTracked(cmd, args, { cwd: dir });
  } else {
    writeFileSync(path.join(dir, 'nginx.conf'), nginxConf(port, workers, dir));
    const nargs = ['-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')];
    const [cmd, args] = core === undefined ? ['nginx', nargs] : pin(core, 'nginx', nargs);
    proc = spawnTracked(cmd, args);
  }
  const url = (p) => `http://127.0.0.1:${port}${p}`;
  await waitForHttp(url('/hello'), { proc });
  return { kind, proc, url, port };
}

async function getJson(url, timeoutMs = 120_000) {
  const r = await fetchOnce(url, { timeoutMs });
  if (r.status !== 200) throw new Error(`${url}: status ${r.status}: ${r.body.toString().slice(0, 300)}`);
  return JSON.parse(r.body.toString());
}

const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
const signed = (x) => `${x >= 0 ? '+' : '-'}${fmt.pct(Math.abs(x))}`;

// ---- loop ----
async function loop() {
  const ng = nginxMissing();
  const servers = [await start('tresty', 1, 0)];
  if (!ng) servers.push(await start('nginx', 1, 0));
  else log(`loop: OpenResty skipped: ${ng}`);
  const res = Object.fromEntries(servers.map((s) => [s.kind, { get: [], set: [], incr: [] }]));
  for (const s of servers) await getJson(s.url(`/loop?n=${Math.min(OPS, 50_000)}`)); // warm-up (JIT)
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of r % 2 ? [...servers].reverse() : servers) {
      const v = await getJson(s.url(`/loop?n=${OPS}`));
      for (const op of ['get', 'set', 'incr']) res[s.kind][op].push(v[op]);
    }
    log(`loop round ${r + 1}/${ROUNDS}`);
  }
  for (const s of servers) await s.proc.stop();
  const rows = ['get', 'set', 'incr'].map((op) => {
    const t = res.tresty[op];
    const n = res.nginx?.[op] ?? [];
    const ratios = t.map((x, i) => n[i] / x); // ops/s ratio = OpenResty's ns / tresty's ns
    return {
      op,
      tresty: `${median(t).toFixed(0)} ns (${fmt.rate(1e9 / median(t))}/s)`,
      or: n.length ? `${median(n).toFixed(0)} ns (${fmt.rate(1e9 / median(n))}/s)` : 'skipped',
      ratio: n.length ? fmt.ratio(median(ratios)) : 'n/a',
      spread: n.length ? fmt.pct(spread(ratios)) : '',
      target: n.length ? (median(ratios) >= 0.8 ? 'met (>= 0.8x)' : 'MISSED (>= 0.8x)') : 'not run',
    };
  });
  return {
    title: `Handler loop: CPU per operation, 1 worker pinned to core 0, 1000 keys, 16-byte values, median of ${ROUNDS} rounds of ${OPS.toLocaleString('en-US')} ops`,
    columns: [
      { key: 'op', label: 'op', align: 'left' }, { key: 'tresty', label: 'tresty' }, { key: 'or', label: 'OpenResty' },
      { key: 'ratio', label: 'tresty / OpenResty (ops/s)' }, { key: 'spread', label: 'ratio spread' }, { key: 'target', label: 'target', align: 'left' },
    ],
    rows,
  };
}

// ---- contention ----
let round = 0;

async function hammerPair(s, n) {
  for (let attempt = 0; attempt < 20; attempt++) {
    await fetchOnce(s.url('/reset'));
    const r = ++round;
    // The second request a little later: by then the first one's worker is busy at the barrier,
    // so nginx's other worker accepts it (one worker would otherwise accept both at once).
    const first = getJson(s.url(`/hammer?n=${n}&round=${r}`));
    await new Promise((res) => setTimeout(res, 10));
    const rs = await Promise.all([first, getJson(s.url(`/hammer?n=${n}&round=${r}`))]);
    if (rs.some((x) => x.timeout) || rs[0].pid === rs[1].pid) continue; // both on one worker: again
    const count = Number((await fetchOnce(s.url('/ctr'))).body.toString().trim());
    const ms = Math.max(rs[0].end, rs[1].end) - Math.min(rs[0].start, rs[1].start);
    return { count, opsPerSec: (2 * n) / (ms / 1000) };
  }
  throw new Error(`${s.kind}: never got the two requests on two workers`);
}

async function hammerOne(s, n) {
  const r = await getJson(s.url(`/hammer?n=${n}&solo=1`));
  return n / ((r.end - r.start) / 1000);
}

async function contention() {
  const n = OPS;
  const ng = nginxMissing();
  const servers = [await start('tresty', 2)];
  if (!ng) servers.push(await start('nginx', 2));
  const res = Object.fromEntries(servers.map((s) => [s.kind, { pair: [], one: [], exact: true }]));
  // Warm-up: both workers of each server run the loop until the JIT has compiled it.
  for (const s of servers) for (let i = 0; i < 3; i++) await hammerPair(s, n);
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of r % 2 ? [...servers].reverse() : servers) {
      const p = await hammerPair(s, n);
      if (p.count !== 2 * n) res[s.kind].exact = false;
      res[s.kind].pair.push(p.opsPerSec);
      res[s.kind].one.push(await hammerOne(s, n));
    }
    log(`contention round ${r + 1}/${ROUNDS}`);
  }
  for (const s of servers) await s.proc.stop();
  return {
    title: `Contention: 2 workers incr one key, ${n.toLocaleString('en-US')} each (unpinned, 2 cores), median of ${ROUNDS} rounds`,
    columns: [
      { key: 'server', label: 'server', align: 'left' }, { key: 'pair', label: '2 workers, incr/s' },
      { key: 'one', label: '1 worker alone, incr/s' }, { key: 'exact', label: 'final count exact', align: 'left' },
    ],
    rows: servers.map((s) => ({
      server: s.kind === 'nginx' ? 'OpenResty' : 'tresty',
      pair: fmt.rate(median(res[s.kind].pair)),
      one: fmt.rate(median(res[s.kind].one)),
      exact: res[s.kind].exact ? `yes (${ROUNDS} of ${ROUNDS})` : 'NO',
    })),
  };
}

// ---- limit ----
const WRK_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'wrk-report.lua');

async function wrk(url) {
  const [cmd, args] = pin(1, 'wrk', ['-t1', '-c64', `-d${SECONDS}s`, '--timeout', '5s', '-s', WRK_SCRIPT, url]);
  const p = spawnTracked(cmd, args);
  await p.exited;
  const line = p.output().split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk gave no report for ${url}:\n${p.output().trim()}`);
  const r = JSON.parse(line.slice(9));
  return { rps: r.requests / (r.duration_us / 1e6), requests: r.requests, errors: r.connect + r.read + r.write + r.status + r.timeout };
}

async function limit() {
  if (spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status !== 0) {
    log('limit: skipped, wrk is not installed');
    return null;
  }
  const s = await start('tresty', 1, 0);
  const body = (await fetchOnce(s.url('/limited'))).body.toString();
  if (body !== 'hello world\n') throw new Error(`/limited answered ${body}`);
  for (const p of ['/hello', '/access', '/limited']) await wrk(s.url(p));
  const rps = { hello: [], access: [], limited: [] };
  const cpuPerReq = { hello: [], access: [], limited: [] }; // µs of CPU (every thread of tresty) per request
  const errors = { hello: 0, access: 0, limited: 0 };
  const first = snapshot([s.proc.child.pid]);
  for (let r = 0; r < ROUNDS; r++) {
    for (const p of r % 2 ? ['limited', 'access', 'hello'] : ['hello', 'access', 'limited']) {
      const before = snapshot([s.proc.child.pid]);
      const x = await wrk(s.url(`/${p}`));
      const used = cpuDelta(before, snapshot([s.proc.child.pid])).reduce((a, row) => a + row.total, 0);
      rps[p].push(x.rps);
      cpuPerReq[p].push((used * 1e6) / x.requests);
      errors[p] += x.errors;
    }
    log(`limit round ${r + 1}/${ROUNDS}`);
  }
  const cpu = describeCpu(cpuDelta(first, snapshot([s.proc.child.pid])), ROUNDS * 3 * SECONDS);
  const perCall = [];
  for (let r = 0; r < ROUNDS + 1; r++) perCall.push((await getJson(s.url('/enforce-loop'))).ns);
  perCall.shift(); // the first one warms the JIT up
  await s.proc.stop();
  const ratios = rps.limited.map((x, i) => x / rps.hello[i]);
  const cpuRatios = cpuPerReq.limited.map((x, i) => x / cpuPerReq.hello[i]);
  const cost = median(cpuRatios) - 1;
  return {
    title: `limit_req.enforce() on every request of hello (1 worker on core 0, wrk -t1 -c64 on core 1, ${SECONDS} s x ${ROUNDS} rounds)`,
    columns: [
      { key: 'what', label: '', align: 'left' }, { key: 'hello', label: 'hello' },
      { key: 'access', label: 'hello + empty access_by_js' }, { key: 'limited', label: 'hello + limit_req' },
      { key: 'cost', label: 'limit_req cost' }, { key: 'spread', label: 'ratio spread' },
    ],
    rows: [
      {
        what: 'CPU per request (all threads)', hello: `${median(cpuPerReq.hello).toFixed(1)} µs`,
        access: `${median(cpuPerReq.access).toFixed(1)} µs`, limited: `${median(cpuPerReq.limited).toFixed(1)} µs`,
        cost: signed(cost), spread: fmt.pct(spread(cpuRatios)),
      },
      {
        what: 'req/s', hello: fmt.rate(median(rps.hello)), access: fmt.rate(median(rps.access)), limited: fmt.rate(median(rps.limited)),
        cost: signed(median(ratios) - 1), spread: fmt.pct(spread(ratios)),
      },
    ],
    notes: [
      `limit_req.enforce(ngx, ngx.var.remote_addr) alone, in a loop inside a handler: ${median(perCall).toFixed(0)} ns of CPU per call `
        + `= ${fmt.pct((median(perCall) / 1000) / median(cpuPerReq.hello))} of a hello request's CPU`,
      `target: limit_req costs < 10% of hello's throughput (CPU per request end to end, the measure a loaded machine skews least): ${cost < 0.1 ? 'met' : 'MISSED'}; errors: ${errors.hello + errors.access + errors.limited}`,
      `CPU of the tresty process tree over the runs:\n${cpu}`,
    ],
  };
}

// Each table as soon as it is measured.
const show = (t) => { if (t) console.log(`\n${toText(t)}`); };
if (ONLY.has('loop')) show(await loop());
if (ONLY.has('contention')) show(await contention());
if (ONLY.has('limit')) show(await limit());
console.log(`\nload average ${load()} at the end (${os.availableParallelism()} cores); Node ${process.version}`);
