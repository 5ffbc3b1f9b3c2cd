#!/usr/bin/env node
// TLS per core: tresty with TLS in its native engine (OpenSSL in C, Node's copy), tresty on
// node:tls (TRESTY_TLS_ENGINE=node) and nginx on the same certificate, one server on one core and
// wrk on the other. Two loads:
//   handshakes   every request on a new connection (`Connection: close`, no session reuse):
//                a full TLS 1.3 handshake per request, so req/s = handshakes/s
//   hello        keep-alive requests for `return 200 "hello world"` over TLS
//   cert-js      handshakes again, the certificate chosen on each by ssl_certificate_by_js (nginx:
//                ssl_certificate_by_lua) from an in-memory store (conf/bench/tls-*-certjs.conf)
// for an RSA 2048 and an ECDSA P-256 certificate made at run time with the openssl CLI. Servers
// take turns round after round; each ratio is the median of per-round ratios; the CPU of every
// process and thread is reported. Alone: node bench/tls.mjs [--quick] [--rounds N] [--tests LIST].
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchArgs } from './lib/args.mjs';
import { freePort } from './lib/net.mjs';
import { cores, cpuLine, have, pinned, usPerRequest, wrkRun, writeConf } from './lib/pinned.mjs';
import { nginxModules } from './lib/servers.mjs';
import { dropDir, tempDir } from './lib/procs.mjs';
import { progress } from './lib/progress.mjs';
import { median, spread } from './lib/stats.mjs';
import { commandLine, runSuite } from './lib/suite.mjs';
import { fmt } from './lib/table.mjs';
import { ROOT } from './lib/tresty-dist.mjs';

const CONNECTIONS = 50;
const KEYS = { rsa: ['-newkey', 'rsa:2048'], ecdsa: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] };
const LOADS = { handshakes: { Connection: 'close' }, hello: {}, 'cert-js': { Connection: 'close' } };
/** The confs each load runs on: cert-js's servers choose the certificate in a handler. */
const CONF_OF = { handshakes: '', hello: '', 'cert-js': '-certjs' };
/** The servers compared; 'tresty-node' is tresty with TLS on node:tls. */
const SERVERS = ['tresty', 'tresty-node', 'nginx'];
const TRESTYS = ['tresty', 'tresty-node'];

function makeCert(dir, kind, name = kind) {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', ...KEYS[kind], '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name === kind ? 'bench.test' : 'other.test'}`], { stdio: 'ignore' });
  return { cert, key };
}

/** Waits for `https://127.0.0.1:port/hello` by trying TLS connects (no client library needed). */
async function waitTls(port, proc, timeoutMs = 30_000) {
  const tls = await import('node:tls');
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`exited before serving TLS:\n${proc.output().trim()}`);
    const ok = await new Promise((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`no TLS on port ${port} within ${timeoutMs} ms:\n${proc.output().trim()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function start(kind, dir, core, pair, variant) {
  const port = await freePort();
  const vars = { DIR: dir, PORT: port, CERT: pair.cert, KEY: pair.key, OCERT: pair.other.cert, OKEY: pair.other.key, MODULES: nginxModules() ?? '' };
  const text = readFileSync(path.join(ROOT, 'conf', 'bench', `tls-${kind === 'nginx' ? 'nginx' : 'tresty'}${variant}.conf`), 'utf8');
  const conf = writeConf(path.join(dir, `${kind}.conf`), text, vars);
  let p;
  if (kind === 'nginx') {
    p = pinned(core, 'nginx', ['-p', `${dir}/`, '-c', conf, '-e', path.join(dir, 'nginx-error.log')]);
  } else {
    mkdirSync(path.join(dir, 'logs'), { recursive: true });
    const env = kind === 'tresty-node' ? { ...process.env, TRESTY_TLS_ENGINE: 'node' } : process.env;
    p = pinned(core, process.execPath, [path.join(ROOT, 'bin', 'tresty.js'), '-p', dir, '-c', conf], { cwd: dir, env });
  }
  await waitTls(port, p);
  return { kind, port, proc: p };
}

export async function runTls(opts) {
  const started = new Date().toISOString();
  for (const tool of ['nginx', 'wrk', 'openssl']) {
    if (!have(tool)) throw new Error(`${tool} is not installed (Debian: apt-get install ${tool})`);
  }
  const { server: sCore, load: lCore } = cores();
  const loads = Object.keys(LOADS).filter((l) => !opts.tests || opts.tests.includes(l));
  const prog = progress('tls', Object.keys(KEYS).length * loads.length * SERVERS.length * (opts.rounds + 1));
  const certDir = tempDir('tls-certs');
  const tests = [];
  try {
    for (const [key, variant] of Object.keys(KEYS).flatMap((k) => [...new Set(loads.map((l) => CONF_OF[l]))].map((v) => [k, v]))) {
      const pair = { ...makeCert(certDir, key), other: makeCert(certDir, 'ecdsa', `other-${key}`) };
      const dirs = Object.fromEntries(SERVERS.map((k) => [k, tempDir(`tls-${k}`)]));
      const servers = {};
      for (const k of SERVERS) servers[k] = await start(k, dirs[k], sCore, pair, variant);
      try {
        for (const [load, headers] of Object.entries(LOADS).filter(([l]) => loads.includes(l) && CONF_OF[l] === variant)) {
          const runs = Object.fromEntries(SERVERS.map((k) => [k, []]));
          const go = (k) => wrkRun(`https://127.0.0.1:${servers[k].port}/hello`, {
            core: lCore, seconds: opts.httpS, connections: CONNECTIONS, headers, watch: [servers[k].proc.child.pid],
          });
          for (const k of SERVERS) { prog.step(`${key} ${load} ${k} warm-up`); await go(k); }
          for (let r = 0; r < opts.rounds; r++) {
            for (const k of r % 2 === 0 ? SERVERS : [...SERVERS].reverse()) {
              prog.step(`${key} ${load} ${k} round ${r + 1}/${opts.rounds}`);
              runs[k].push(await go(k));
            }
          }
          const us = (k) => runs[k].map((x) => usPerRequest(x, servers[k].proc.child.pid));
          const row = (k) => {
            const mid = runs[k][Math.floor(runs[k].length / 2)];
            return {
              rps: median(runs[k].map((x) => x.rps)), errors: runs[k].reduce((a, x) => a + x.errors, 0), usPerReq: median(us(k)),
              rounds: runs[k].map((x) => Math.round(x.rps)), cpu: cpuLine(mid.cpu, mid.wall),
            };
          };
          for (const k of TRESTYS) {
            const per = runs[k].map((x, i) => x.rps / runs.nginx[i].rps);
            const perCpu = us('nginx').map((x, i) => x / us(k)[i]);
            tests.push({
              key, load, server: k, tresty: row(k), nginx: row('nginx'), ratio: median(per), spread: spread(per), perRound: per,
              cpuRatio: median(perCpu), cpuSpread: spread(perCpu),
            });
          }
        }
      } finally {
        for (const s of Object.values(servers)) await s.proc.stop();
        for (const d of Object.values(dirs)) dropDir(d);
      }
    }
  } finally {
    prog.end();
    dropDir(certDir);
  }
  return {
    name: 'tls',
    title: 'TLS: tresty (native engine, and node:tls) vs nginx, same certificate, per core',
    date: started,
    settings: { connections: CONNECTIONS, secondsPerRun: opts.httpS, rounds: opts.rounds, serverCore: sCore, loadCore: lCore },
    tests,
    notes: sCore === null ? ['taskset is missing: nothing was pinned, the figures are not per core.'] : [],
  };
}

export function tlsTables(sec) {
  const s = sec.settings;
  return [
    {
      title: `TLS per core: wrk -t1 -c${s.connections} on core ${s.loadCore ?? '-'}, the server on core ${s.serverCore ?? '-'}, ${s.rounds} round(s) x ${s.secondsPerRun} s`,
      columns: [
        { key: 'key', label: 'certificate', align: 'left' },
        { key: 'load', label: 'load', align: 'left' },
        { key: 'server', label: 'tresty TLS', align: 'left' },
        { key: 'tresty', label: 'tresty req/s' },
        { key: 'nginx', label: 'nginx req/s' },
        { key: 'ratio', label: 'tresty / nginx' },
        { key: 'spread', label: 'spread' },
        { key: 'us', label: 'CPU µs/req (tresty / nginx)' },
        { key: 'cpuRatio', label: 'per-core by CPU' },
        { key: 'errors', label: 'errors' },
      ],
      rows: sec.tests.map((t) => ({
        key: t.key === 'rsa' ? 'RSA 2048' : 'ECDSA P-256',
        load: { handshakes: 'new connection per request (handshakes/s)', hello: 'keep-alive hello', 'cert-js': 'handshakes/s, certificate chosen by JS (nginx: Lua)' }[t.load],
        server: t.server === 'tresty-node' ? 'node:tls' : 'native engine',
        tresty: fmt.rate(t.tresty.rps), nginx: fmt.rate(t.nginx.rps), ratio: fmt.ratio(t.ratio), spread: `±${fmt.pct(t.spread / 2)}`,
        us: `${t.tresty.usPerReq.toFixed(0)} / ${t.nginx.usPerReq.toFixed(0)}`, cpuRatio: `${fmt.ratio(t.cpuRatio)} ±${fmt.pct(t.cpuSpread / 2)}`,
        errors: `${t.tresty.errors} / ${t.nginx.errors}`,
      })),
      notes: [...sec.notes, '"per-core by CPU" = nginx\'s CPU per request / tresty\'s (the server\'s processes, the master included): the req/s ratio a saturated core would give.'],
    },
    {
      title: 'CPU during the median run of each (% of one core, by process and thread)',
      columns: [{ key: 'what', label: 'run', align: 'left' }, { key: 'cpu', label: 'CPU', align: 'left' }],
      rows: sec.tests.flatMap((t) => (t.server === 'tresty-node' ? ['tresty', 'nginx'] : ['tresty']).map((k) => ({
        what: `${t.key} ${t.load} ${k === 'nginx' ? 'nginx' : t.server ?? 'tresty'}`, cpu: t[k].cpu,
      }))),
    },
  ];
}

export const tlsBench = { title: 'TLS', run: runTls, tables: tlsTables };

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runSuite(['tls'], benchArgs(), { tls: tlsBench }, commandLine('tls'));
}
