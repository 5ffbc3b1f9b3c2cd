// error_page for nginx's TLS refusals (495 a bad client certificate, 496 none under `on`, 497
// plain HTTP on a TLS port): the engine hands such requests to JS when an error_page takes them,
// node:tls always refuses them in JS. The same expectations on nginx 1.22 where it is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

const missing = spawnSync('sh', ['-c', 'command -v openssl'], { stdio: 'ignore' }).status === 0 ? null : 'openssl is not installed';
const noNginx = nginxMissing();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-tls-pages-'));
const file = (n: string): string => path.join(dir, n);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

beforeAll(() => {
  if (missing) return;
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2', '-subj', '/CN=ca');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('s.key'), '-out', file('s.crt'), '-days', '2', '-subj', '/CN=localhost');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('o.key'), '-out', file('o.crt'), '-days', '2', '-subj', '/CN=other');
});
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const servers = (own: number, kept: number): string => {
  const common = `ssl_certificate ${file('s.crt')}; ssl_certificate_key ${file('s.key')}; ssl_protocols TLSv1.2 TLSv1.3;
    ssl_verify_client on; ssl_client_certificate ${file('ca.crt')};
    location = /certerr { return 200 "cert: $ssl_client_verify\\n"; } location / { return 200 "ok\\n"; }`;
  return `
  server { listen 127.0.0.1:${own} ssl; ${common}
    error_page 495 496 =403 /certerr; error_page 497 https://$host:$server_port$request_uri; }
  server { listen 127.0.0.1:${kept} ssl; ${common} error_page 495 496 /certerr; }
`;
};

interface Got { status: number; connection: string | undefined; location: string | undefined; body: string }

function get(port: number, withCert: boolean): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/a?b', servername: 'localhost', rejectUnauthorized: false, agent: false,
      ...(withCert ? { cert: fs.readFileSync(file('o.crt')), key: fs.readFileSync(file('o.key')) } : {}) }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, location: res.headers.location, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function plain(port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => c.write(`GET /x?y HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
    let d = '';
    c.on('data', (x: Buffer) => { d += x.toString('latin1'); });
    c.on('close', () => resolve(d));
    c.on('error', () => resolve(d));
  });
}

function shared(name: string, up: (own: number, kept: number) => Promise<void>): void {
  describe(name, () => {
    let own = 0;
    let kept = 0;
    beforeAll(async () => { own = await freePort(); kept = await freePort(); await up(own, kept); });

    it('error_page 495 496 =403: the page\'s answer with 403, the connection closed', async () => {
      expect(await get(own, false)).toMatchObject({ status: 403, connection: 'close', body: 'cert: NONE\n' });
      expect(await get(own, true)).toMatchObject({ status: 403, connection: 'close', body: 'cert: FAILED:self-signed certificate\n' });
    });

    it('error_page 495 496 without =: the page\'s answer goes out as 400', async () => {
      expect(await get(kept, false)).toMatchObject({ status: 400, connection: 'close', body: 'cert: NONE\n' });
      expect(await get(kept, true)).toMatchObject({ status: 400, body: 'cert: FAILED:self-signed certificate\n' });
    });

    it('error_page 497 URL: plain HTTP on the TLS port is redirected to https', async () => {
      const raw = await plain(own);
      expect(raw).toMatch(/^HTTP\/1\.1 302 /);
      expect(raw).toContain(`\r\nLocation: https://127.0.0.1:${own}/x?y\r\n`);
      expect(raw).toMatch(/\r\nConnection: close\r\n/);
    });
  });
}

describe.skipIf(missing !== null)(`error_page for 495-497${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let t: TrestyProcess;
  afterAll(async () => { await t?.stop(); });
  shared(`on tresty (${process.env.TRESTY_TLS_ENGINE === 'node' ? 'node:tls' : "the engine's TLS"})`, async (own, kept) => {
    t = await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;\n${servers(own, kept)}\n}\n`);
  });
});

describe.skipIf(missing !== null || noNginx !== null)(`the same on nginx${noNginx ? ` (skipped: ${noNginx})` : ''}`, () => {
  let n: Nginx;
  afterAll(async () => { await n?.stop(); });
  shared('nginx 1.22', async (own, kept) => { n = await startNginx('location / { return 200; }', servers(own, kept)); });
});
