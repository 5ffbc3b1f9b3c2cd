// ssl_dhparam applied (a DHE-only client gets through only to the server that has the
// parameters) and ssl_stapling on a self-signed certificate: nginx's [warn] that it has no issuer
// to ask about, and the server goes on; through the real bin/tresty.js with certificates made by the openssl CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, makePrefix, runTresty, startTresty, type TrestyProcess } from './helpers/server.js';

const missing = spawnSync('sh', ['-c', 'command -v openssl'], { stdio: 'ignore' }).status !== 0 ? 'openssl is not installed' : null;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-dh-'));
const file = (n: string): string => path.join(dir, n);

/** A TLS 1.2 handshake offering DHE key exchange only: the cipher agreed, or the error. */
function dheHandshake(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers: 'DHE-RSA-AES128-GCM-SHA256' }, () => {
      const name = s.getCipher().name;
      s.destroy();
      resolve(name);
    });
    s.on('error', (e) => resolve(`error: ${e.message}`));
  });
}

describe.skipIf(missing !== null)(`ssl_dhparam and ssl_stapling${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let t: TrestyProcess;
  let withDh = 0;
  let withoutDh = 0;
  beforeAll(async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('s.key'), '-out', file('s.crt'),
      '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    execFileSync('openssl', ['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'dh_param:ffdhe2048', '-out', file('dh.pem')], { stdio: 'ignore' });
    withDh = await freePort();
    withoutDh = await freePort();
    t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  ssl_certificate ${file('s.crt')};
  ssl_certificate_key ${file('s.key')};
  ssl_ciphers HIGH:!aNULL:!MD5;
  ssl_stapling on;
  ssl_stapling_verify on;
  server { listen 127.0.0.1:${withDh} ssl; ssl_dhparam ${file('dh.pem')}; location / { return 200 "dh\\n"; } }
  server { listen 127.0.0.1:${withoutDh} ssl; location / { return 200 "plain\\n"; } }
}
`);
  });
  afterAll(async () => { await t?.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('a DHE-only client is served where ssl_dhparam is set, refused where it is not', async () => {
    expect(await dheHandshake(withDh)).toBe('DHE-RSA-AES128-GCM-SHA256');
    expect(await dheHandshake(withoutDh)).toMatch(/^error: /);
  });

  it('ssl_stapling on: a [warn] per certificate, once, and the server goes on', () => {
    const log = fs.readFileSync(path.join(t.prefix, 'logs/error.log'), 'utf8');
    const lines = log.split('\n').filter((l) => l.includes('"ssl_stapling" ignored'));
    expect(lines.length).toBe(2);
    expect(lines[0]).toMatch(/\[warn\] .*"ssl_stapling" ignored, issuer certificate not found for certificate ".*s\.crt"/);
  });

  it('a missing ssl_dhparam file is a conf error naming file:line', async () => {
    const p = makePrefix(`events {}\nhttp {\n  server {\n    listen 127.0.0.1:1 ssl;\n    ssl_certificate ${file('s.crt')};\n    ssl_certificate_key ${file('s.key')};\n    ssl_dhparam /nonexistent/dh.pem;\n  }\n}\n`);
    const r = await runTresty(['-p', p, '-t']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cannot load DH parameters "\/nonexistent\/dh\.pem".* in .*nginx\.conf:\d+/);
  });
});
