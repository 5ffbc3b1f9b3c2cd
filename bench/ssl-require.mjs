#!/usr/bin/env node
// What taking tresty/ssl costs an ssl_certificate_by_js handler, per handshake, three ways on the
// native engine's TLS: `await import('tresty/ssl')` in the handler (the loader and its hooks
// thread on every call), `require('tresty/ssl')` (the worker's module at once, phases/
// tresty-modules.ts), and the import kept in a global once (what docs/gateway.md said before).
// One server per way on one core, wrk -c50 with `Connection: close` (a TLS 1.3 handshake per
// request, ECDSA P-256) on the other; the ways take turns, round after round, and each figure is
// the median of the rounds (CPU µs of the server's processes per handshake; ratios per round).
// Alone: node bench/ssl-require.mjs [--rounds N] [--seconds S].
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { freePort } from './lib/net.mjs';
import { cores, have, pinned, usPerRequest, wrkRun, writeConf } from './lib/pinned.mjs';
import { dropDir, tempDir } from './lib/procs.mjs';
import { median, spread } from './lib/stats.mjs';
import { ROOT } from './lib/tresty-dist.mjs';

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const ROUNDS = arg('rounds', 5);
const SECONDS = arg('seconds', 3);

const TAKE = {
  import: "const { ssl } = await import('tresty/ssl');",
  require: "const { ssl } = require('tresty/ssl');",
  global: "const ssl = globalThis.benchSsl ??= (await import('tresty/ssl')).ssl;",
};

const conf = (take) => `worker_processes 1;
error_log logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    ssl_session_tickets off;
    server {
        listen 127.0.0.1:__PORT__ ssl;
        ssl_certificate __OCERT__; ssl_certificate_key __OKEY__;
        ssl_certificate_by_js_block {
            ${take}
            globalThis.benchPair ??= { cert: require('node:fs').readFileSync('__CERT__', 'utf8'), key: require('node:fs').readFileSync('__KEY__', 'utf8') };
            ssl.clear_certs(ngx);
            ssl.set_cert(ngx, globalThis.benchPair.cert);
            ssl.set_priv_key(ngx, globalThis.benchPair.key);
        }
        location = /hello { return 200 "hello world\\n"; }
    }
}
`;

async function up(port) {
  for (let i = 0; i < 150; i++) {
    const ok = await new Promise((r) => { const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no TLS on ${port}`);
}

for (const t of ['wrk', 'openssl']) if (!have(t)) throw new Error(`${t} is not installed`);
const { server: sCore, load: lCore } = cores();
const dir = tempDir('ssl-require');
const servers = {};
try {
  const mk = (name, cn) => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', path.join(dir, `${name}.key`),
      '-out', path.join(dir, `${name}.crt`), '-days', '2', '-subj', `/CN=${cn}`], { stdio: 'ignore' });
  };
  mk('cert', 'bench.test');
  mk('other', 'other.test');
  for (const way of Object.keys(TAKE)) {
    const d = path.join(dir, way);
    mkdirSync(path.join(d, 'logs'), { recursive: true });
    const port = await freePort();
    const file = writeConf(path.join(d, 'nginx.conf'), conf(TAKE[way]), {
      PORT: port, CERT: path.join(dir, 'cert.crt'), KEY: path.join(dir, 'cert.key'), OCERT: path.join(dir, 'other.crt'), OKEY: path.join(dir, 'other.key'),
    });
    const proc = pinned(sCore, process.execPath, [path.join(ROOT, 'bin', 'tresty.js'), '-p', d, '-c', file], { cwd: d });
    servers[way] = { port, proc };
    await up(port);
  }
  const ways = Object.keys(TAKE);
  const runs = Object.fromEntries(ways.map((w) => [w, []]));
  const go = (w) => wrkRun(`https://127.0.0.1:${servers[w].port}/hello`, {
    core: lCore, seconds: SECONDS, connections: 50, headers: { Connection: 'close' }, watch: [servers[w].proc.child.pid],
  });
  for (const w of ways) await go(w); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const w of r % 2 === 0 ? ways : [...ways].reverse()) runs[w].push(await go(w));
  }
  const us = (w) => runs[w].map((x) => usPerRequest(x, servers[w].proc.child.pid));
  console.log(`ssl_certificate_by_js taking tresty/ssl, engine TLS, ECDSA P-256, wrk -c50 Connection: close, ${ROUNDS} rounds x ${SECONDS} s, server core ${sCore ?? '-'}`);
  for (const w of ways) {
    const per = us(w).map((x, i) => x / us('require')[i]);
    console.log(`${w.padEnd(8)} ${median(runs[w].map((x) => x.rps)).toFixed(0).padStart(6)} handshakes/s  ${median(us(w)).toFixed(0).padStart(5)} CPU µs/handshake`
      + `  CPU vs require ${median(per).toFixed(2)}x ±${((100 * spread(per)) / 2).toFixed(0)}%  errors ${runs[w].reduce((a, x) => a + x.errors, 0)}`
      + `  rounds µs ${us(w).map((x) => x.toFixed(0)).join(' ')}`);
  }
} finally {
  for (const s of Object.values(servers)) await s.proc.stop();
  dropDir(dir);
}
