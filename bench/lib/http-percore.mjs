// The per-core mode of bench/http.mjs (issue 9): one worker of each server pinned to one core
// (taskset -c 1: the whole process tree), wrk -t1 -c50 pinned to the other, keep-alive; the
// contenders of a test take turns, round after round, and each ratio is the median of its
// per-round ratios. Every run also records the CPU of every thread of the server (/proc).
import { STATIC_BODY, STATIC_FILE, startNginx, startNodeCluster, startTresty } from './servers.mjs';
import { LOAD_CORE, SERVER_CORE, sumCpu, wrkPinned } from './percore.mjs';
import { ratiosOf, summarize } from './rounds.mjs';
import { fetchOnce } from './net.mjs';
import { median } from './stats.mjs';

export const CONNECTIONS = 50;

const HELLO = 'hello world\n';

/** The per-core tests: contenders and the ratios to report (num / den). */
function tests() {
  const four = (p, expect) => [
    { id: 'native', label: 'tresty, native engine', server: 'native', path: p, expect },
    { id: 'node-engine', label: 'tresty, node:http engine', server: 'nodeEngine', path: p, expect },
    { id: 'node', label: 'bare node:http', server: 'node', path: p, expect },
    { id: 'nginx', label: 'nginx + lua', server: 'nginx', path: p, expect },
  ];
  const ratios = [
    { label: 'native / bare node:http', num: 'native', den: 'node' },
    { label: 'native / nginx+lua', num: 'native', den: 'nginx' },
    { label: 'native / node:http engine', num: 'native', den: 'node-engine' },
    { label: 'bare node:http / nginx+lua', num: 'node', den: 'nginx' },
  ];
  return [
    { test: 'hello', what: 'GET /hello: ngx.say("hello world")', contenders: four('/hello', HELLO), ratios },
    { test: 'chain', what: 'GET /chain: rewrite -> access -> content sharing ngx.ctx', contenders: four('/chain', '79\n'), ratios },
    {
      test: 'static', what: `GET ${STATIC_FILE}: a 1 KB file from root`,
      contenders: four(STATIC_FILE, STATIC_BODY).filter((c) => c.id !== 'node'),
      ratios: [{ label: 'native / nginx', num: 'native', den: 'nginx' }, { label: 'native / node:http engine', num: 'native', den: 'node-engine' }],
    },
  ];
}

/** Median busy share of wrk's core over a contender's rounds; null when unknown (no /proc/stat, wrk not pinned). */
function loadCoreMedian(list) {
  const m = median(list.map((r) => r.loadCoreBusy)); // median skips the nulls; NaN when all are
  return Number.isFinite(m) ? m : null;
}

/** wrk's core this busy (median of rounds) means the load generator may be what limited a row. */
export const LOAD_CORE_FULL = 0.97;

/** Issue 9's targets, per core. */
export const PERCORE_TARGETS = [
  { id: 'hello-vs-node', text: 'hello: native >= 3x bare node:http', test: 'hello', num: 'native', den: 'node', min: 3 },
  { id: 'hello-vs-nginx', text: 'hello: native >= 0.8x nginx+lua (goal 1.0x)', test: 'hello', num: 'native', den: 'nginx', min: 0.8 },
  { id: 'chain-vs-nginx', text: 'rewrite->access->content chain: native >= 0.7x nginx+lua', test: 'chain', num: 'native', den: 'nginx', min: 0.7 },
  { id: 'static-vs-nginx', text: 'static 1 KB file: native >= 0.8x nginx', test: 'static', num: 'native', den: 'nginx', min: 0.8 },
  { id: 'p99-vs-node', text: 'hello p99 at 50 connections: native <= bare node:http', test: 'hello', num: 'native', den: 'node', p99: true },
];

async function startAll(prog) {
  const pin = { workers: 1, core: SERVER_CORE };
  const servers = {
    native: await startTresty(pin),
    nodeEngine: await startTresty({ ...pin, engine: 'node' }),
    node: await startNodeCluster(pin),
  };
  const nginx = await startNginx(pin);
  if (nginx.skipped) prog.note(`nginx + lua skipped: ${nginx.skipped}`);
  else servers.nginx = nginx;
  return { servers, nginxSkipped: nginx.skipped ?? null };
}

async function verify(c, server) {
  const r = await fetchOnce(server.url(c.path));
  if (r.status !== 200 || r.body.toString() !== c.expect) {
    throw new Error(`${c.label} ${c.path} answered ${r.status} ${JSON.stringify(r.body.toString().slice(0, 80))}`);
  }
}

export async function runPerCore(opts, prog) {
  const { servers, nginxSkipped } = await startAll(prog);
  const results = [];
  try {
    for (const t of tests()) {
      const live = t.contenders.filter((c) => servers[c.server]);
      for (const c of live) await verify(c, servers[c.server]);
      const runs = Object.fromEntries(live.map((c) => [c.id, []]));
      const load = (c, seconds) => wrkPinned(servers[c.server].url(c.path), { connections: CONNECTIONS, seconds, pids: [servers[c.server].pid] });
      for (const c of live) {
        prog.step(`per core ${t.test}: ${c.label} warm-up`);
        await load(c, 1);
      }
      for (let r = 0; r < opts.rounds; r++) {
        const order = live.map((_, i) => live[(i + r) % live.length]);
        for (const c of order) {
          prog.step(`per core ${t.test}: ${c.label} round ${r + 1}/${opts.rounds}`);
          runs[c.id].push(await load(c, opts.httpS));
        }
      }
      const rows = summarize(live, runs).map((row) => ({ ...row, cpu: sumCpu(runs[row.id]), loadCoreBusy: loadCoreMedian(runs[row.id]) }));
      const ratios = ratiosOf(t.ratios, runs);
      results.push({ test: t.test, what: t.what, rows, ratios });
    }
  } finally {
    for (const s of Object.values(servers)) await s.stop();
  }
  return { tests: results, nginxSkipped, targets: checkPerCore(results), cores: { server: SERVER_CORE, load: LOAD_CORE } };
}

export function checkPerCore(tests) {
  return PERCORE_TARGETS.map((t) => {
    const test = tests.find((x) => x.test === t.test);
    if (t.p99) {
      const a = test?.rows.find((r) => r.id === t.num)?.p99Ms;
      const b = test?.rows.find((r) => r.id === t.den)?.p99Ms;
      if (!Number.isFinite(a) || !Number.isFinite(b)) return { ...t, ratio: null, status: 'not run' };
      return { ...t, ratio: a / b, status: a <= b ? 'met' : 'MISSED' };
    }
    const r = test?.ratios.find((q) => q.num === t.num && q.den === t.den)?.value;
    if (!Number.isFinite(r)) return { ...t, ratio: null, status: 'not run' };
    return { ...t, ratio: r, status: r >= t.min ? 'met' : 'MISSED' };
  });
}
