// ssl_trusted_certificate next to ssl_client_certificate, as nginx 1.22 does it (observed; the
// same expectations run on nginx where it is installed), on the engine's TLS and (vitest's
// tls:node project) on node:tls: both files' CAs verify client certificates, but only
// ssl_client_certificate's are named to the client in the certificate request.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

const missing = spawnSync('sh', ['-c', 'command -v openssl'], { stdio: 'ignore' }).status === 0 ? null : 'openssl is not installed';
const noNginx = nginxMissing();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-tls-trusted-'));
const file = (n: string): string => path.join(dir, n);
const openssl = (...args: string[]): string => execFileSync('openssl', args, { encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'] });

/** A root CA `name` and a client certificate `client` it signed. */
function caAndClient(name: string, cn: string, client: string): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`), '-days', '2', '-subj', `/CN=${cn}`);
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${client}.key`), '-out', file(`${client}.csr`), '-subj', `/CN=${client} client`);
  openssl('x509', '-req', '-in', file(`${client}.csr`), '-CA', file(`${name}.crt`), '-CAkey', file(`${name}.key`), '-CAcreateserial',
    '-out', file(`${client}.crt`), '-days', '2');
}

beforeAll(() => {
  if (missing) return;
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('s.key'), '-out', file('s.crt'), '-days', '2', '-subj', '/CN=localhost');
  caAndClient('named', 'named ca', 'n');
  caAndClient('trusted', 'trusted only ca', 't');
  caAndClient('other', 'other ca', 'o');
});
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const servers = (port: number): string => `
  server { listen 127.0.0.1:${port} ssl; ssl_certificate ${file('s.crt')}; ssl_certificate_key ${file('s.key')};
    ssl_protocols TLSv1.2 TLSv1.3; ssl_verify_client optional_no_ca;
    ssl_client_certificate ${file('named.crt')}; ssl_trusted_certificate ${file('trusted.crt')};
    location / { return 200 "v=$ssl_client_verify s=$ssl_client_s_dn\\n"; } }
`;

function get(port: number, client: string): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false,
      cert: fs.readFileSync(file(`${client}.crt`)), key: fs.readFileSync(file(`${client}.key`)) }, () => { s.write('GET / HTTP/1.0\r\n\r\n'); });
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    s.on('end', () => resolve(got.slice(got.indexOf('\r\n\r\n') + 4)));
    s.on('error', (e) => resolve(`error: ${e.message}`));
  });
}

/** The CA names the certificate request named, as openssl s_client prints them. */
function caNames(port: number): string {
  const out = execFileSync('sh', ['-c', `echo | timeout 5 openssl s_client -connect 127.0.0.1:${port} -servername localhost 2>/dev/null || true`],
    { encoding: 'latin1' });
  const m = /Acceptable client certificate CA names\n([\s\S]*?)\n(?:Requested|Client Certificate Types|Peer signing|---)/.exec(out);
  return m ? m[1]!.trim() : `(none in: ${out.slice(0, 200)})`;
}

function shared(name: string, up: () => Promise<number>): void {
  describe(name, () => {
    let port = 0;
    beforeAll(async () => { port = await up(); });

    it('only ssl_client_certificate\'s CA is named to the client', () => {
      expect(caNames(port)).toBe('CN = named ca');
    });

    it('a certificate of either CA verifies; one of an unknown CA does not', async () => {
      expect(await get(port, 'n')).toBe('v=SUCCESS s=CN=n client\n');
      expect(await get(port, 't')).toBe('v=SUCCESS s=CN=t client\n');
      expect(await get(port, 'o')).toMatch(/^v=FAILED:unable to (get local issuer certificate|verify the first certificate) s=CN=o client\n$/);
    });
  });
}

describe.skipIf(missing !== null)(`ssl_trusted_certificate${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let t: TrestyProcess;
  afterAll(async () => { await t?.stop(); });
  shared(`on tresty (${process.env.TRESTY_TLS_ENGINE === 'node' ? 'node:tls' : "the engine's TLS"})`, async () => {
    const port = await freePort();
    t = await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;\n${servers(port)}\n}\n`);
    return port;
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
