#!/usr/bin/env node
// HTTP: tresty (on its native engine, and on node:http) against bare node:http (node:cluster, same
// worker count) and nginx + lua-nginx-module, all with worker_processes auto, keep-alive and the
// same closed-loop load:
//   hello   content_by_js_block { ngx.say("hello world") }
//   chain   rewrite -> access -> content sharing ngx.ctx (the seeds' example, prints 79)
//   static  a 1 KB file from root (tresty vs nginx)
//   echo    POST /echo through an FFI plugin vs through the UDS echo server, inside tresty
// then the same per core (lib/http-percore.mjs): one worker pinned to one core, wrk on the other.
// Every server is started once; within a test the contenders take turns, round after round, and
// each ratio is the median of its per-round ratios. Alone: node bench/http.mjs [--quick].
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchArgs } from './lib/args.mjs';
import { runLoad, pickLoad } from './lib/load.mjs';
import { fetchOnce } from './lib/net.mjs';
import { onCleanup, tempDir } from './lib/procs.mjs';
import { progress } from './lib/progress.mjs';
import { startNginx, startNodeCluster, startTresty } from './lib/servers.mjs';
import { ratiosOf, summarize } from './lib/rounds.mjs';
import { commandLine, runSuite } from './lib/suite.mjs';
import { CONNECTIONS as PERCORE_CONNECTIONS, LOAD_CORE_FULL, runPerCore } from './lib/http-percore.mjs';
import { STATIC_BODY, STATIC_FILE } from './lib/servers.mjs';
import { fmt } from './lib/table.mjs';
import { checkCeiling, checkEcho, checkHttp } from './lib/targets.mjs';
import { cpuDelta, snapshot } from './lib/threads.mjs';
import { startUdsEcho } from './lib/uds-server.mjs';
import { crossCore, describeCrossCore } from './lib/xcore.mjs';

const CONNECTIONS = 64;

/** The tests: contenders (server, path, body) and the ratios to report, as numerator/denominator. */
function plan(quick, only) {
  const echo = (bytes) => ({
    test: `echo ${fmt.bytes(bytes)}`, what: `POST /echo, ${fmt.bytes(bytes)} body, inside tresty handlers`,
    contenders: [
      { id: 'ffi', label: 'tresty /echo via FFI', server: 'tresty', path: '/echo-ffi', bodyBytes: bytes, expect: 'x'.repeat(bytes) },
      { id: 'uds', label: 'tresty /echo via UDS', server: 'tresty', path: '/echo-uds', bodyBytes: bytes, expect: 'x'.repeat(bytes) },
      { id: 'fn', label: 'tresty /echo via FFI, zero hop', server: 'tresty', path: '/echo-fn', bodyBytes: bytes, expect: 'x'.repeat(bytes) },
      { id: 'js', label: 'tresty /echo, no call', server: 'tresty', path: '/echo-js', bodyBytes: bytes, expect: 'x'.repeat(bytes) },
      { id: 'hello', label: 'tresty GET /hello', server: 'tresty', path: '/hello', expect: 'hello world\n' },
      // The same three on a second tresty whose workers are bound (worker_cpu_affinity auto) and
      // whose pollers are real-time on their worker's CPU (ffi_poller_sched fifo): the ring's
      // fastest conf, against the socket and /hello with the same binding.
      { id: 'ffi-rt', label: 'tresty /echo via FFI, real-time pollers', server: 'trestyRt', path: '/echo-ffi', bodyBytes: bytes, expect: 'x'.repeat(bytes) },
      { id: 'uds-rt', label: 'tresty /echo via UDS, workers bound', server: 'trestyRt', path: '/echo-uds', bodyBytes: bytes, expect: 'x'.repeat(bytes) },
      { id: 'hello-rt', label: 'tresty GET /hello, workers bound', server: 'trestyRt', path: '/hello', expect: 'hello world\n' },
      // OpenResty's own price for a POST body: the ceiling "FFI / hello" is measured against.
      { id: 'nginx-js', label: 'nginx + lua /echo, no call', server: 'nginx', path: '/echo-js', bodyBytes: bytes, expect: 'x'.repeat(bytes) },
      { id: 'nginx-hello', label: 'nginx + lua GET /hello', server: 'nginx', path: '/hello', expect: 'hello world\n' },
    ],
    ratios: [
      { label: 'FFI / UDS', num: 'ffi', den: 'uds' },
      { label: 'FFI / hello', num: 'ffi', den: 'hello' },
      { label: 'FFI / same echo with no call', num: 'ffi', den: 'js' },
      { label: 'FFI zero hop / UDS', num: 'fn', den: 'uds' },
      { label: 'FFI zero hop / hello', num: 'fn', den: 'hello' },
      { label: 'no call / hello (the POST body alone)', num: 'js', den: 'hello' },
      { label: 'nginx + lua: no call / hello (its POST body alone)', num: 'nginx-js', den: 'nginx-hello' },
      { label: 'FFI, real-time pollers / UDS, workers bound', num: 'ffi-rt', den: 'uds-rt' },
      { label: 'FFI, real-time pollers / hello, workers bound', num: 'ffi-rt', den: 'hello-rt' },
    ],
  });
  const peers = (test, p, expect, what) => ({
    test, what,
    contenders: [
      { id: 'tresty', label: 'tresty (native engine)', server: 'tresty', path: p, expect },
      { id: 'tresty-node', label: 'tresty (node:http engine)', server: 'trestyNode', path: p, expect },
      { id: 'node', label: 'bare node:http cluster', server: 'node', path: p, expect },
      { id: 'nginx', label: 'nginx + lua', server: 'nginx', path: p, expect },
    ],
    ratios: [
      { label: 'tresty / bare node', num: 'tresty', den: 'node', key: 'vsNode' },
      { label: 'tresty / nginx+lua', num: 'tresty', den: 'nginx', key: 'vsNginx' },
      { label: 'tresty native / node:http engine', num: 'tresty', den: 'tresty-node' },
      { label: 'bare node / nginx+lua', num: 'node', den: 'nginx' },
    ],
  });
  const staticFile = {
    ...peers('static', STATIC_FILE, STATIC_BODY, `GET ${STATIC_FILE}: a 1 KB file from root`),
    ratios: [{ label: 'tresty / nginx', num: 'tresty', den: 'nginx' }, { label: 'tresty native / node:http engine', num: 'tresty', den: 'tresty-node' }],
  };
  staticFile.contenders = staticFile.contenders.filter((c) => c.id !== 'node');
  const all = [
    peers('hello', '/hello', 'hello world\n', 'GET /hello: ngx.say("hello world")'),
    peers('chain', '/chain', '79\n', 'GET /chain: rewrite -> access -> content sharing ngx.ctx'),
    staticFile,
    echo(512),
    ...(quick ? [] : [echo(10240)]),
  ];
  return only ? all.filter((t) => only.includes(t.test.split(' ')[0])) : all;
}

// Threads that serve FFI calls inside the workers: runtime pollers and workers (echo_c-poll,
// echo_c-w), function pool threads. Their CPU is what the issue 10 ceiling reads.
const FFI_THREAD = /-poll$|-w$|ffi-pool/;

/** Per thread name, CPU cores used over `seconds` (summed over the processes measured). */
function threadShares(before, after, seconds) {
  const by = new Map();
  for (const p of cpuDelta(before, after)) {
    for (const t of p.threads) {
      const name = `${p.comm === t.name ? p.comm : `${p.comm}/${t.name}`}`;
      by.set(name, (by.get(name) ?? 0) + t.seconds / seconds);
    }
  }
  return [...by].map(([name, share]) => ({ name, share })).sort((a, b) => b.share - a.share);
}

/** The pids a contender's CPU is read from: the server's tree, plus the UDS echo server for tresty. */
function measuredPids(servers, c) {
  return [servers[c.server].pid, ...(c.server.startsWith('tresty') ? [servers.uds.pid] : [])];
}

async function startAll(workers, prog) {
  const dir = tempDir('http-uds');
  const uds = await startUdsEcho(path.join(dir, 'echo.sock'), { threads: workers });
  onCleanup(() => { try { process.kill(uds.pid, 'SIGKILL'); } catch { /* gone */ } });
  const servers = { uds };
  servers.tresty = await startTresty({ udsSocket: uds.socketPath });
  servers.trestyNode = await startTresty({ udsSocket: uds.socketPath, engine: 'node' });
  // Real-time threads need root or CAP_SYS_NICE: without, the contenders on it are left out.
  const rt = spawnSync('chrt', ['-f', '1', 'true'], { stdio: 'ignore' }).status === 0;
  if (rt) servers.trestyRt = await startTresty({ udsSocket: uds.socketPath, pollersFifo: true });
  else prog.note('real-time pollers skipped: SCHED_FIFO is not permitted here (needs root or CAP_SYS_NICE)');
  servers.node = await startNodeCluster({ workers });
  const nginx = await startNginx();
  if (nginx.skipped) prog.note(`nginx + lua skipped: ${nginx.skipped}`);
  else servers.nginx = nginx;
  return { servers, nginxSkipped: nginx.skipped ?? null };
}

async function verify(c, server) {
  const body = c.bodyBytes ? 'x'.repeat(c.bodyBytes) : undefined;
  const r = await fetchOnce(server.url(c.path), { method: body ? 'POST' : 'GET', body });
  if (r.status !== 200 || r.body.toString() !== c.expect) {
    throw new Error(`${c.label} ${c.path} answered ${r.status} ${JSON.stringify(r.body.toString().slice(0, 80))}, expected ${JSON.stringify(c.expect.slice(0, 80))}`);
  }
}

export async function runHttp(opts) {
  const started = new Date().toISOString();
  const tool = pickLoad(opts.load);
  const workers = os.availableParallelism();
  const tests = plan(opts.quick, opts.tests);
  const warmS = 1; // wrk takes whole seconds
  // the auto-mode tests, then the per-core ones (3 tests, up to 4 contenders)
  const steps = tests.reduce((n, t) => n + t.contenders.length * (1 + opts.rounds), 0) + (opts.tests ? 0 : 11 * (1 + opts.rounds));
  const prog = progress('http', steps);
  // The host's cross-core cost before the servers start and after they stop: the 10 KB /echo
  // crosses cores twice per call, as ffi-vs-uds's 100 KB cells do, so a run says which state it
  // saw (bench/http-xcore.mjs found the /echo ratios do not follow it, unlike the 100 KB cells).
  const host = { xcoreStart: crossCore() };
  const { servers, nginxSkipped } = await startAll(workers, prog);
  const results = [];
  let idle = null;
  try {
    for (const t of tests) {
      const live = t.contenders.filter((c) => servers[c.server]);
      for (const c of live) await verify(c, servers[c.server]);
      const runs = Object.fromEntries(live.map((c) => [c.id, []]));
      const load = async (c, seconds) => {
        const pids = measuredPids(servers, c);
        const before = snapshot(pids);
        const t0 = performance.now();
        const r = await runLoad(servers[c.server].url(c.path), { tool, connections: CONNECTIONS, seconds, bodyBytes: c.bodyBytes ?? 0 });
        r.cpu = threadShares(before, snapshot(pids), (performance.now() - t0) / 1000);
        return r;
      };
      for (const c of live) {
        prog.step(`${t.test}: ${c.label} warm-up`);
        await load(c, warmS);
      }
      for (let r = 0; r < opts.rounds; r++) {
        // Rotate who goes first each round, so drift in the machine's load is shared.
        const order = live.map((_, i) => live[(i + r) % live.length]);
        for (const c of order) {
          prog.step(`${t.test}: ${c.label} round ${r + 1}/${opts.rounds}`);
          runs[c.id].push(await load(c, opts.httpS));
        }
      }
      const rows = summarize(live, runs);
      for (const row of rows) row.cpu = meanShares(runs[row.id].map((x) => x.cpu));
      const ratios = ratiosOf(t.ratios, runs);
      const entry = { test: t.test, what: t.what, rows, ratios };
      for (const q of ratios) if (q.key) entry[q.key] = q.value;
      results.push(entry);
    }
    idle = await idleShares(servers.tresty);
  } finally {
    for (const s of ['tresty', 'trestyNode', 'trestyRt', 'node', 'nginx']) await servers[s]?.stop();
    await servers.uds.stop();
  }
  host.xcoreEnd = crossCore();
  let perCore = null;
  try {
    if (!opts.tests) perCore = await runPerCore(opts, prog);
  } finally {
    prog.end();
  }
  const notes = [];
  if (nginxSkipped) notes.push(`nginx + lua skipped: ${nginxSkipped}`);
  if (results.some((t) => t.rows.some((r) => r.errors > 0))) notes.push('Some runs had errors or non-2xx answers: their numbers are not comparable.');
  notes.push(describeCrossCore(host.xcoreStart, host.xcoreEnd));
  return {
    name: 'http',
    title: 'HTTP: tresty vs bare node:http vs nginx + lua',
    date: started,
    settings: { tool, workers, connections: CONNECTIONS, threads: tool === 'wrk' ? 1 : null, secondsPerRun: opts.httpS, warmupSeconds: warmS, rounds: opts.rounds },
    nginxSkipped,
    host,
    tests: results,
    targets: checkHttp(results),
    echoTargets: echoTargets(results, workers, idle),
    idle,
    perCore,
    notes,
  };
}

/** Mean per-thread shares over rounds. */
function meanShares(list) {
  const by = new Map();
  for (const l of list) for (const t of l ?? []) by.set(t.name, (by.get(t.name) ?? 0) + t.share / list.length);
  return [...by].map(([name, share]) => ({ name, share })).sort((a, b) => b.share - a.share);
}

/** The tresty tree's threads over 2 s with no requests (pollers must sleep: 0%). */
async function idleShares(server) {
  await new Promise((r) => setTimeout(r, 500));
  const before = snapshot([server.pid]);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 2000));
  return threadShares(before, snapshot([server.pid]), (performance.now() - t0) / 1000);
}

const ffiShare = (cpu) => (cpu ?? []).filter((t) => FFI_THREAD.test(t.name)).reduce((a, t) => a + t.share, 0);

/** Issue 10's targets: the ratios of each echo test, and the FFI threads' CPU, loaded and idle. */
function echoTargets(tests, cores, idle) {
  const out = checkEcho(tests);
  const echoes = tests.filter((x) => x.test.startsWith('echo'));
  for (const t of echoes) {
    const row = t.rows.find((r) => r.id === 'ffi');
    out.push(checkCeiling(`${t.test}: pollers + pool threads < 3% of the machine under load`, ffiShare(row?.cpu) / cores, 0.03));
  }
  for (const t of echoes) {
    const row = t.rows.find((r) => r.id === 'ffi-rt');
    if (row) out.push({ ...checkCeiling(`${t.test}: real-time pollers < 3% of the machine under load`, ffiShare(row.cpu) / cores, 0.03), id: `${t.test}-rt-pollers` });
  }
  if (idle) out.push(checkCeiling('idle: pollers + pool threads at 0% (under one 10 ms tick in 2 s)', ffiShare(idle) / cores, 0.005));
  return out;
}

export function httpTables(sec) {
  const s = sec.settings;
  const rows = [];
  for (const t of sec.tests) {
    for (const r of t.rows) {
      rows.push({
        test: t.test, server: r.label, rps: fmt.rate(r.rps), rounds: (r.rounds ?? []).map((x) => `${Math.round(x / 100) / 10}k`).join('/'),
        p50: fmt.ms(r.p50Ms), p99: fmt.ms(r.p99Ms), errors: r.errors,
        cpu: (r.cpu ?? []).filter((x) => x.share >= 0.005).map((x) => `${x.name} ${x.share.toFixed(2)}`).join(', '),
      });
    }
  }
  return [
    {
      title: `HTTP, ${s.tool} ${s.threads ? `-t${s.threads} ` : ''}-c${s.connections}, ${s.rounds} round(s) x ${s.secondsPerRun} s, ${s.workers} workers each`,
      columns: [
        { key: 'test', label: 'test', align: 'left' },
        { key: 'server', label: 'server', align: 'left' },
        { key: 'rps', label: 'req/s' },
        { key: 'rounds', label: 'rounds', align: 'left' },
        { key: 'p50', label: 'p50 ms' },
        { key: 'p99', label: 'p99 ms' },
        { key: 'errors', label: 'errors' },
        { key: 'cpu', label: 'CPU per thread (cores; process/thread)', align: 'left' },
      ],
      rows,
      notes: [...sec.notes, ...(sec.idle ? [`idle 2 s, tresty's threads: ${sec.idle.filter((x) => x.share >= 0.005).map((x) => `${x.name} ${x.share.toFixed(2)}`).join(', ') || 'all under 0.005 cores'}`] : [])],
    },
    ratioTable('HTTP ratios (req/s, median of per-round ratios)', sec.tests),
    targetTable('HTTP targets (issue 5)', sec.targets),
    ...(sec.echoTargets?.length ? [{
      title: 'HTTP /echo targets (issue 10)',
      columns: [
        { key: 'text', label: 'target', align: 'left' },
        { key: 'measured', label: 'measured' },
        { key: 'status', label: 'status', align: 'left' },
      ],
      rows: sec.echoTargets.map((t) => ({ text: t.text, measured: t.share !== undefined ? (t.share === null ? "n/a" : `${(100 * t.share).toFixed(1)}%`) : fmt.ratio(t.ratio ?? NaN), status: t.status })),
    }] : []),
    ...(sec.perCore ? perCoreTables(sec.perCore, s) : []),
  ];
}

function ratioTable(title, tests) {
  return {
    title,
    columns: [
      { key: 'test', label: 'test', align: 'left' },
      { key: 'ratio', label: 'ratio', align: 'left' },
      { key: 'value', label: 'value' },
      { key: 'spread', label: 'spread' },
    ],
    rows: tests.flatMap((t) => t.ratios.map((q) => ({
      test: t.test, ratio: q.label, value: q.skipped ? 'skipped' : fmt.ratio(q.value ?? NaN),
      spread: q.skipped || (q.rounds?.length ?? 0) < 2 ? '' : `±${fmt.pct(q.spread / 2)}`,
    }))),
  };
}

function targetTable(title, targets) {
  return {
    title,
    columns: [
      { key: 'text', label: 'target', align: 'left' },
      { key: 'measured', label: 'measured' },
      { key: 'status', label: 'status', align: 'left' },
    ],
    rows: targets.map((t) => ({ text: t.text, measured: fmt.ratio(t.ratio ?? NaN), status: t.status })),
  };
}

/** The per-core tables: req/s with the CPU of every thread, the ratios, issue 9's targets. */
function perCoreTables(pc, s) {
  const cpu = (r) => r.cpu.map((t) => `${t.name} ${t.share.toFixed(2)}`).join(', ');
  const rows = pc.tests.flatMap((t) => t.rows.map((r) => ({
    test: t.test, server: r.label, rps: fmt.rate(r.rps), rounds: r.rounds.map((x) => `${Math.round(x / 1000)}k`).join('/'),
    p99: fmt.ms(r.p99Ms), errors: r.errors, cpu: cpu(r),
    // CPU time a request cost the server (all its threads): steadier than req/s on a shared machine.
    usPerReq: r.rps > 0 ? (1e6 * r.cpu.reduce((a, t) => a + t.share, 0) / r.rps).toFixed(1) : 'n/a',
    loadCore: Number.isFinite(r.loadCoreBusy) ? fmt.pct(r.loadCoreBusy) : 'n/a',
  })));
  const full = pc.tests.flatMap((t) => t.rows.filter((r) => r.loadCoreBusy >= LOAD_CORE_FULL).map((r) => `${t.test} ${r.label}`));
  return [
    {
      title: `HTTP per core: 1 worker pinned to core ${pc.cores.server}, wrk -t1 -c${PERCORE_CONNECTIONS} pinned to core ${pc.cores.load}, ${s.rounds} round(s) x ${s.secondsPerRun} s`,
      columns: [
        { key: 'test', label: 'test', align: 'left' },
        { key: 'server', label: 'server', align: 'left' },
        { key: 'rps', label: 'req/s' },
        { key: 'rounds', label: 'rounds', align: 'left' },
        { key: 'p99', label: 'p99 ms' },
        { key: 'errors', label: 'errors' },
        { key: 'usPerReq', label: 'CPU µs/req' },
        { key: 'loadCore', label: 'wrk core busy' },
        { key: 'cpu', label: 'CPU per thread (cores)', align: 'left' },
      ],
      rows,
      notes: [
        ...(pc.nginxSkipped ? [`nginx + lua skipped: ${pc.nginxSkipped}`] : []),
        'wrk core busy: the share of the load core busy during the rounds (wrk and anything else on it), median.',
        ...(full.length ? [`wrk's core was ${fmt.pct(LOAD_CORE_FULL)} busy or more for ${full.join('; ')}: there the load generator may have set the req/s, not the server.`] : []),
      ],
    },
    ratioTable('HTTP per core: ratios (req/s, median of per-round ratios)', pc.tests),
    targetTable('HTTP per-core targets (issue 9)', pc.targets),
  ];
}

export const httpBench = { title: 'HTTP', run: runHttp, tables: httpTables };

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runSuite(['http'], benchArgs(), { http: httpBench }, commandLine('http'));
}
