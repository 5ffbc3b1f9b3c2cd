#!/usr/bin/env node
// The gateway's speed, per core: tresty proxying to an upstream against nginx proxying to the
// same upstream (keep-alive to it, 1 KB and 100 KB answers). The proxy under test runs on one
// core; wrk and the upstream (nginx serving static files) share the other. Proxies take turns
// round after round; each ratio is the median of its per-round ratios, and every run reports
// the CPU of each process and thread, so the table says whether the proxy's core was the limit.
// Then the upstream client alone: tresty's (node:net + its own parser) against node:http's
// keep-alive Agent, on one core. Alone: node bench/proxy.mjs [--quick] [--rounds N].
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchArgs } from './lib/args.mjs';
import { freePort, waitForHttp } from './lib/net.mjs';
import { cores, cpuLine, have, pinned, usPerRequest, wrkRun, writeConf } from './lib/pinned.mjs';
import { dropDir, tempDir } from './lib/procs.mjs';
import { progress } from './lib/progress.mjs';
import { median, spread } from './lib/stats.mjs';
import { commandLine, runSuite } from './lib/suite.mjs';
import { fmt } from './lib/table.mjs';
import { cpuDelta, processTree, snapshot } from './lib/threads.mjs';
import { ROOT } from './lib/tresty-dist.mjs';

const CONNECTIONS = 50;
const SIZES = [1024, 100 * 1024];
const CONF = path.join(ROOT, 'conf', 'bench');
/** The target: tresty proxying >= 0.7x nginx per core (the goal is 1.0x). */
const TARGET = 0.7;

function conf(name, dir, vars) {
  return writeConf(path.join(dir, `${name}.conf`), readFileSync(path.join(CONF, `proxy-${name}.conf`), 'utf8'), { DIR: dir, ...vars });
}

async function startUpstream(dir, core) {
  mkdirSync(path.join(dir, 'www'), { recursive: true });
  for (const n of SIZES) writeFileSync(path.join(dir, 'www', `${n}`), Buffer.alloc(n, 'x'));
  // The memory run's download: a sparse file, served with sendfile.
  writeFileSync(path.join(dir, 'www', 'big'), '');
  truncateSync(path.join(dir, 'www', 'big'), BIG);
  const port = await freePort();
  const p = pinned(core, 'nginx', ['-p', `${dir}/`, '-c', conf('upstream', dir, { PORT: port }), '-e', path.join(dir, 'upstream-error.log')]);
  await waitForHttp(`http://127.0.0.1:${port}/1024`, { proc: p });
  return { port, proc: p };
}

async function startProxy(kind, dir, core, up, sink = 0) {
  const port = await freePort();
  let p;
  if (kind === 'nginx') {
    p = pinned(core, 'nginx', ['-p', `${dir}/`, '-c', conf('nginx', dir, { PORT: port, UP: up }), '-e', path.join(dir, 'nginx-error.log')]);
  } else {
    mkdirSync(path.join(dir, 'logs'), { recursive: true });
    p = pinned(core, process.execPath, [path.join(ROOT, 'bin', 'tresty.js'), '-p', dir, '-c', conf('tresty', dir, { PORT: port, UP: up, SINK: sink })], { cwd: dir });
  }
  await waitForHttp(`http://127.0.0.1:${port}/1024`, { proc: p, timeoutMs: 30_000 });
  return { kind, port, proc: p, url: (n) => `http://127.0.0.1:${port}/${n}` };
}

/** Bytes each way in the memory run (1 GB; 256 MB with --quick). */
let BIG = 1024 ** 3;

function rss(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  } catch {
    return 0;
  }
}

/**
 * 1 GB down and 1 GB up through tresty's worker (the client and the sink in this process): the
 * worker's resident memory before and its peak during each transfer, and the rate.
 */
async function memoryRuns(tresty, prog) {
  const worker = processTree(tresty.proc.child.pid).at(-1);
  const measure = async (what, transfer) => {
    prog.step(`memory: ${what}`);
    const base = rss(worker);
    let peak = base;
    const timer = setInterval(() => { peak = Math.max(peak, rss(worker)); }, 50);
    const t0 = Date.now();
    const bytes = await transfer();
    clearInterval(timer);
    const secs = (Date.now() - t0) / 1000;
    return { what, bytes, base, peak: Math.max(peak, rss(worker)), mbps: bytes / secs / 1024 ** 2 };
  };
  const down = await measure('download', () => new Promise((resolve, reject) => {
    http.get(tresty.url('big'), { agent: false }, (res) => {
      let n = 0;
      res.on('data', (c) => { n += c.length; });
      res.on('end', () => resolve(n));
    }).on('error', reject);
  }));
  const chunk = Buffer.alloc(256 * 1024, 'u');
  const up = await measure('upload', () => new Promise((resolve, reject) => {
    const req = http.request(tresty.url('sink/up'), { method: 'POST', agent: false, headers: { 'Content-Length': String(BIG) } }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve(Number(body)));
    });
    req.on('error', reject);
    let sent = 0;
    const more = () => {
      while (sent < BIG) {
        sent += chunk.length;
        if (!req.write(chunk)) { req.once('drain', more); return; }
      }
      req.end();
    };
    more();
  }));
  return [down, up];
}

/** A sink that reads an upload and answers its size. */
function startSink() {
  const s = http.createServer((req, res) => {
    let n = 0;
    req.on('data', (c) => { n += c.length; });
    req.on('end', () => res.end(String(n)));
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

/** tresty's upstream client against node:http's Agent, alone on the server's core. */
async function clientRuns(up, core, seconds, rounds, prog) {
  const script = path.join(ROOT, 'bench', 'servers', 'proxy-client.mjs');
  const runs = { tresty: [], agent: [] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 === 0 ? ['tresty', 'agent'] : ['agent', 'tresty']) {
      prog.step(`client ${mode} round ${r + 1}/${rounds}`);
      const p = pinned(core, process.execPath, [script, mode, `http://127.0.0.1:${up}/1024`, String(seconds), String(CONNECTIONS)]);
      const before = snapshot([p.child.pid]);
      await new Promise((res) => setTimeout(res, 200));
      await p.exited;
      const line = p.output().trim().split('\n').pop();
      const j = JSON.parse(line);
      runs[mode].push({ rps: j.requests / j.seconds, cpu: cpuDelta(before, snapshot([p.child.pid])) });
    }
  }
  const per = runs.tresty.map((x, i) => x.rps / runs.agent[i].rps);
  return {
    tresty: median(runs.tresty.map((x) => x.rps)), agent: median(runs.agent.map((x) => x.rps)),
    ratio: median(per), spread: spread(per), rounds: per,
  };
}

export async function runProxy(opts) {
  const started = new Date().toISOString();
  if (!have('nginx')) throw new Error('nginx is not installed (Debian: apt-get install nginx): it is both the upstream and the peer');
  if (!have('wrk')) throw new Error('wrk is not installed (Debian: apt-get install wrk)');
  const { server: sCore, load: lCore } = cores();
  const seconds = opts.httpS;
  const rounds = opts.rounds;
  if (opts.quick) BIG = 256 * 1024 ** 2;
  const prog = progress('proxy', SIZES.length * 3 * (rounds + 1) + 2 * rounds + 2);
  const dirs = ['upstream', 'nginx', 'tresty'].map((n) => tempDir(`proxy-${n}`));
  const up = await startUpstream(dirs[0], lCore);
  const sink = await startSink();
  const proxies = {
    nginx: await startProxy('nginx', dirs[1], sCore, up.port),
    tresty: await startProxy('tresty', dirs[2], sCore, up.port, sink.address().port),
  };
  const names = { [up.proc.child.pid]: 'upstream nginx' };
  const tests = [];
  let client;
  let memory = [];
  try {
    for (const size of SIZES) {
      const runs = { tresty: [], nginx: [], local: [] };
      const load = (k) => {
        const p = proxies[k === 'local' ? 'tresty' : k];
        return wrkRun(k === 'local' ? p.url(`local/${size}`) : p.url(size), {
          core: lCore, seconds, connections: CONNECTIONS, watch: [p.proc.child.pid, up.proc.child.pid],
        });
      };
      const order = ['tresty', 'nginx', 'local'];
      for (const k of order) { prog.step(`${fmt.bytes(size)} ${k} warm-up`); await load(k); }
      for (let r = 0; r < rounds; r++) {
        for (const k of order.map((_, i) => order[(i + r) % order.length])) {
          prog.step(`${fmt.bytes(size)} ${k} round ${r + 1}/${rounds}`);
          runs[k].push(await load(k));
        }
      }
      const per = runs.tresty.map((x, i) => x.rps / runs.nginx[i].rps);
      const us = (k) => runs[k].map((x) => usPerRequest(x, proxies[k === 'local' ? 'tresty' : k].proc.child.pid));
      const perCpu = us('nginx').map((x, i) => x / us('tresty')[i]);
      const row = (k) => {
        const mid = runs[k][Math.floor(runs[k].length / 2)];
        return {
          rps: median(runs[k].map((x) => x.rps)), p99Ms: median(runs[k].map((x) => x.p99Ms)), usPerReq: median(us(k)),
          errors: runs[k].reduce((a, x) => a + x.errors, 0), rounds: runs[k].map((x) => Math.round(x.rps)),
          cpu: cpuLine(mid.cpu, mid.wall, { ...names, [proxies[k === 'local' ? 'tresty' : k].proc.child.pid]: k === 'nginx' ? 'nginx proxy' : 'tresty (taskset)' }),
        };
      };
      tests.push({
        size, tresty: row('tresty'), nginx: row('nginx'), local: row('local'), ratio: median(per), spread: spread(per), perRound: per,
        cpuRatio: median(perCpu), cpuSpread: spread(perCpu),
      });
    }
    client = await clientRuns(up.port, sCore, seconds, rounds, prog);
    memory = await memoryRuns(proxies.tresty, prog);
  } finally {
    prog.end();
    for (const p of [proxies.tresty, proxies.nginx]) await p.proc.stop();
    await up.proc.stop();
    sink.close();
    for (const d of dirs) dropDir(d);
  }
  return {
    name: 'proxy',
    title: 'Gateway: tresty proxying vs nginx proxying, per core',
    date: started,
    settings: { connections: CONNECTIONS, secondsPerRun: seconds, rounds, pinned: sCore !== null, serverCore: sCore, loadCore: lCore },
    tests,
    client,
    memory,
    notes: sCore === null ? ['taskset is missing: nothing was pinned, the figures are not per core.'] : [],
  };
}

export function proxyTables(sec) {
  const s = sec.settings;
  return [
    {
      title: `Proxy per core: wrk -t1 -c${s.connections}, ${s.rounds} round(s) x ${s.secondsPerRun} s; the proxy on core ${s.serverCore ?? '-'}, wrk and the upstream (nginx, static files) on core ${s.loadCore ?? '-'}`,
      columns: [
        { key: 'size', label: 'answer', align: 'left' },
        { key: 'tresty', label: 'tresty req/s' },
        { key: 'nginx', label: 'nginx req/s' },
        { key: 'ratio', label: 'tresty / nginx' },
        { key: 'spread', label: 'spread' },
        { key: 'target', label: `target >= ${TARGET}x`, align: 'left' },
        { key: 'us', label: 'CPU µs/req (tresty / nginx)' },
        { key: 'cpuRatio', label: 'per-core by CPU' },
        { key: 'p99', label: 'p99 ms (tresty / nginx)' },
      ],
      rows: sec.tests.map((t) => ({
        size: fmt.bytes(t.size), tresty: fmt.rate(t.tresty.rps), nginx: fmt.rate(t.nginx.rps), ratio: fmt.ratio(t.ratio),
        spread: `±${fmt.pct(t.spread / 2)}`, target: t.ratio >= TARGET ? 'met' : 'MISSED',
        us: `${t.tresty.usPerReq.toFixed(1)} / ${t.nginx.usPerReq.toFixed(1)}`, cpuRatio: `${fmt.ratio(t.cpuRatio)} ±${fmt.pct(t.cpuSpread / 2)}`,
        p99: `${fmt.ms(t.tresty.p99Ms)} / ${fmt.ms(t.nginx.p99Ms)}`,
      })),
      notes: [...sec.notes, '"per-core by CPU" = nginx\'s CPU per request / tresty\'s (the proxy\'s processes only): the req/s ratio a saturated core would give, less distorted by other load on the machine.'],
    },
    {
      title: 'Where tresty\'s time goes: the same answers made by tresty itself (content_by_js, no proxy) against proxied',
      columns: [
        { key: 'size', label: 'answer', align: 'left' },
        { key: 'local', label: 'tresty local req/s' },
        { key: 'usLocal', label: 'CPU µs/req local' },
        { key: 'usProxy', label: 'CPU µs/req proxied' },
        { key: 'cost', label: 'the proxy\'s share' },
      ],
      rows: sec.tests.map((t) => ({
        size: fmt.bytes(t.size), local: fmt.rate(t.local.rps), usLocal: t.local.usPerReq.toFixed(1), usProxy: t.tresty.usPerReq.toFixed(1),
        cost: fmt.pct((t.tresty.usPerReq - t.local.usPerReq) / t.tresty.usPerReq),
      })),
    },
    {
      title: 'CPU during the median run of each (% of one core, by process and thread)',
      columns: [{ key: 'size', label: 'answer', align: 'left' }, { key: 'who', label: 'proxy', align: 'left' }, { key: 'cpu', label: 'CPU', align: 'left' }],
      rows: sec.tests.flatMap((t) => ['tresty', 'nginx', 'local'].map((k) => ({ size: fmt.bytes(t.size), who: k === 'local' ? 'tresty local' : k, cpu: t[k].cpu }))),
    },
    {
      title: `The upstream client alone (${s.connections} keep-alive lanes, 1 KB, one core): tresty's vs node:http Agent`,
      columns: [{ key: 'tresty', label: 'tresty client req/s' }, { key: 'agent', label: 'node:http Agent req/s' }, { key: 'ratio', label: 'tresty / Agent' }, { key: 'spread', label: 'spread' }],
      rows: sec.client ? [{ tresty: fmt.rate(sec.client.tresty), agent: fmt.rate(sec.client.agent), ratio: fmt.ratio(sec.client.ratio), spread: `±${fmt.pct(sec.client.spread / 2)}` }] : [],
    },
  ];
}

function memoryTable(sec) {
  const mb = (b) => `${(b / 1024 ** 2).toFixed(0)} MB`;
  return {
    title: 'Streaming through the proxy: the worker\'s resident memory while moving a large body (proxy_buffering on; uploads with proxy_request_buffering off)',
    columns: [
      { key: 'what', label: 'transfer', align: 'left' }, { key: 'bytes', label: 'bytes' }, { key: 'base', label: 'RSS before' },
      { key: 'peak', label: 'RSS peak' }, { key: 'growth', label: 'growth' }, { key: 'rate', label: 'MB/s' },
    ],
    rows: (sec.memory ?? []).map((m) => ({
      what: m.what, bytes: mb(m.bytes), base: mb(m.base), peak: mb(m.peak), growth: mb(m.peak - m.base), rate: m.mbps.toFixed(0),
    })),
  };
}

export const proxyBench = { title: 'Gateway proxy', run: runProxy, tables: (sec) => [...proxyTables(sec), memoryTable(sec)] };

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runSuite(['proxy'], benchArgs(), { proxy: proxyBench }, commandLine('proxy'));
}
