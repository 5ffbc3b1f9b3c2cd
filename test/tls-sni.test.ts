// What the SNI name's server brings to a handshake, as nginx 1.22 does it (observed; the same
// expectations run on nginx where it is installed), on the engine's TLS and (vitest's tls:node
// project) on node:tls: a server without a certificate of its own is served with the default
// server's; the SNI server's ssl_ciphers apply but the protocol range stays the default's.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, makePrefix, runTresty, startTresty, type TrestyProcess } from './helpers/server.js';

const missing = spawnSync('sh', ['-c', 'command -v openssl'], { stdio: 'ignore' }).status === 0 ? null : 'openssl is not installed';
const noNginx = nginxMissing();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-tls-sni-'));
const file = (n: string): string => path.join(dir, n);

function cert(name: string, cn: string): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`),
    '-days', '2', '-subj', `/CN=${cn}`], { stdio: 'ignore' });
}

beforeAll(() => {
  if (missing) return;
  cert('a', 'a.test');
  cert('b', 'only12.test');
});
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const servers = (port: number): string => `
  server { listen 127.0.0.1:${port} ssl; server_name a.test; ssl_certificate ${file('a.crt')}; ssl_certificate_key ${file('a.key')};
    ssl_protocols TLSv1.2 TLSv1.3; location / { return 200 "a\\n"; } }
  server { listen 127.0.0.1:${port} ssl; server_name nocert.test; location / { return 200 "nocert\\n"; } }
  server { listen 127.0.0.1:${port} ssl; server_name only12.test; ssl_certificate ${file('b.crt')}; ssl_certificate_key ${file('b.key')};
    ssl_protocols TLSv1.2; ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256; location / { return 200 "only12\\n"; } }
`;

interface Shake { cn: string; protocol: string; cipher: string; body: string }

/** A handshake with `name` as SNI, then GET / (Host: `host`, none when null): the certificate's
 *  CN, protocol, cipher and body. */
function shake(port: number, name: string, opts: tls.ConnectionOptions = {}, host: string | null = name): Promise<Shake | string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: name, rejectUnauthorized: false, ...opts }, () => {
      const got = { cn: String(s.getPeerCertificate().subject?.CN), protocol: s.getProtocol() ?? '', cipher: s.getCipher().name, body: '' };
      s.write(`GET / HTTP/1.0\r\n${host === null ? '' : `Host: ${host}\r\n`}\r\n`);
      s.setEncoding('latin1');
      s.on('data', (d: string) => { got.body += d; });
      s.on('end', () => { got.body = got.body.slice(got.body.indexOf('\r\n\r\n') + 4); resolve(got); });
    });
    s.on('error', (e) => resolve(`error: ${e.message}`));
  });
}

function shared(name: string, up: () => Promise<number>): void {
  describe(name, () => {
    let port = 0;
    beforeAll(async () => { port = await up(); });

    it('SNI naming a server without a certificate: the default server\'s certificate, that server\'s answer', async () => {
      expect(await shake(port, 'nocert.test')).toMatchObject({ cn: 'a.test', body: 'nocert\n' });
    });

    it('the SNI server\'s certificate and ciphers, the default server\'s protocol range', async () => {
      expect(await shake(port, 'only12.test')).toMatchObject({ cn: 'only12.test', protocol: 'TLSv1.3', body: 'only12\n' });
      expect(await shake(port, 'only12.test', { maxVersion: 'TLSv1.2' })).toMatchObject({ protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' });
      expect(await shake(port, 'only12.test', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' })).toMatch(/^error: /);
      expect(await shake(port, 'a.test', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' })).toMatchObject({ body: 'a\n' });
    });

    // nginx 1.22 (observed): with no Host, ngx_http_set_virtual_server finds no name and, SNI
    // negotiated, takes the address's default server; the SNI server's certificate stays.
    it('HTTP/1.0 without Host: the default server answers, whatever server the SNI named', async () => {
      expect(await shake(port, 'only12.test', {}, null)).toMatchObject({ cn: 'only12.test', body: 'a\n' });
      expect(await shake(port, 'nocert.test', {}, null)).toMatchObject({ cn: 'a.test', body: 'a\n' });
    });
  });
}

describe.skipIf(missing !== null)(`SNI servers${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let t: TrestyProcess;
  afterAll(async () => { await t?.stop(); });
  shared(`on tresty (${process.env.TRESTY_TLS_ENGINE === 'node' ? 'node:tls' : "the engine's TLS"})`, async () => {
    const port = await freePort();
    t = await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;\n${servers(port)}\n}\n`);
    return port;
  });

  it('-t: only the default server of a TLS address needs a certificate (nginx 1.22)', async () => {
    const ok = await runTresty(['-p', makePrefix(`events {}\nhttp {\n${servers(1)}\n}\n`), '-t']);
    expect(ok.code).toBe(0);
    const p = makePrefix(`events {}\nhttp {\n  server { listen 127.0.0.1:1 ssl; server_name x; }\n  server { listen 127.0.0.1:1 ssl; server_name y;
    ssl_certificate ${file('a.crt')}; ssl_certificate_key ${file('a.key')}; }\n}\n`);
    const bad = await runTresty(['-p', p, '-t']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/no "ssl_certificate" is defined for the "listen \.\.\. ssl" directive in .*nginx\.conf:3/);
  });
});

describe.skipIf(missing !== null || noNginx !== null)(`the same on nginx${noNginx ? ` (skipped: ${noNginx})` : ''}`, () => {
  let n: Nginx;
  afterAll(async () => { await n?.stop(); });
  shared('nginx 1.22', async () => {
    const port = await freePort();
    n = await startNginx('location / { return 200; }', servers(port));
    return port;
  });
});
