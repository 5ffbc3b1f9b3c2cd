// ssl_engine (main): nginx's ENGINE_by_id + ENGINE_set_default, here Node's crypto.setEngine in
// every process (both TLS paths use Node's OpenSSL). `ssl_engine dynamic;` (an engine OpenSSL
// always has) is taken and TLS is served on each front; an unknown engine fails -t as on nginx,
// `ENGINE_by_id("ID") failed (...)` (the reason in Node's words), with the line. Before, tresty
// refused it as an unknown directive.
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { nginxMissing } from './helpers/nginx.js';
import { freePort, makePrefix, runTresty, startTresty, type TrestyProcess } from './helpers/server.js';
import { opensslMissing, tlsFiles } from './helpers/tls-files.js';
import { ALL_TLS } from './helpers/tls-fronts.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const files = tlsFiles('tlseng');
if (opensslMissing === null) files.selfSigned('c', 'h.test');
afterAll(() => { files.remove(); });
const CERT = `ssl_certificate ${files.file('c.crt')}; ssl_certificate_key ${files.file('c.key')};`;
const conf = (engine: string, port: number, listen: string): string =>
  `ssl_engine ${engine};\nworker_processes 1;\nevents {}\nhttp {\n  access_log off;\n  server {\n    listen 127.0.0.1:${port} ${listen};\n    ${CERT}\n    location / { return 200 "tls\\n"; }\n  }\n}\n`;

function handshake(port: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'h.test', rejectUnauthorized: false }, () => { resolve(s.getProtocol()); s.destroy(); });
    s.on('error', reject);
  });
}

for (const [label, listen, env, skip] of ALL_TLS) {
  const why = opensslMissing ?? skip;
  describe.skipIf(why !== null)(`ssl_engine dynamic: ${label}${why ? ` (skipped: ${why})` : ''}`, () => {
    let t: TrestyProcess;
    afterAll(async () => { await t?.stop(); });
    it('starts and serves TLS', async () => {
      const port = await freePort();
      t = await startTresty(conf('dynamic', port, listen), { env });
      expect(await handshake(port)).toMatch(/^TLSv1\.[23]$/);
    });
  });
}

/** nginx -t on a conf with `main` at the top (nginx's own check of ssl_engine). */
function nginxT(main: string): string {
  const dir = fs.mkdtempSync(path.join(files.file(''), 'ng-'));
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `${main}\npid ${dir}/n.pid;\nerror_log ${dir}/e.log;\nevents {}\nhttp { server { listen 127.0.0.1:1 ssl; ${CERT} } }\n`);
  const r = spawnSync('nginx', ['-t', '-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'e.log')], { encoding: 'utf8' });
  return r.status === 0 ? 'ok' : r.stderr;
}

describe.skipIf(opensslMissing !== null)('-t', () => {
  it('an unknown engine: ENGINE_by_id("ID") failed, with the line; nginx refuses it too', async () => {
    const p = makePrefix(conf('nosuchengine', 1, 'ssl'));
    const r = await runTresty(['-p', p, '-t']);
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/\[emerg\] ENGINE_by_id\("nosuchengine"\) failed \(.+\) in \S*nginx\.conf:1\n/);
    if (nginxMissing() === null) {
      expect(nginxT('ssl_engine nosuchengine;')).toMatch(/\[emerg\] ENGINE_by_id\("nosuchengine"\) failed \(SSL: /);
      expect(nginxT('ssl_engine dynamic;')).toBe('ok');
    }
  });
});
