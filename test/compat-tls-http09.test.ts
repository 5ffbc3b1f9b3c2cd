// HTTP/0.9 (`GET /\r\n`, no version) over TLS on the node:tls path (`listen ... ssl http2`, and
// TRESTY_TLS_ENGINE=node), with the same expectations on nginx 1.22 + lua. Observed on nginx: a GET
// gets the body only (no status line, no headers), then the close; another method gets the 400
// page, also without a status line, and the info line "*N client sent invalid method in HTTP/0.9
// request". Before, node's parser took the line as a request line and waited for headers: a hang.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { raw, type RawResult } from './helpers/conn.js';
import { NODE_TLS, onNginxTls, onTlsFronts } from './helpers/tls-fronts.js';

const noOpenssl = spawnSync('sh', ['-c', 'command -v openssl'], { stdio: 'ignore' }).status === 0 ? null : 'openssl is not installed';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-tls09-'));
const CRT = path.join(dir, 'c.crt');
const KEY = path.join(dir, 'c.key');
if (noOpenssl === null) {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', KEY, '-out', CRT,
    '-days', '2', '-subj', '/CN=h.test'], { stdio: 'ignore' });
}
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/** Sends `data` over TLS (ALPN `alpn`), reads until the close or 3 s. */
const tlsRaw = (port: number, data: string, alpn?: string[]): Promise<RawResult> => raw(port, [data], { timeoutMs: 3000, tls: { servername: 'h.test', alpn } });

const SERVER = `ssl_certificate ${CRT}; ssl_certificate_key ${KEY};
    location / { return 200 "tls\\n"; }`;

function checks(port: () => number, log: () => string): void {
  it('GET with no version: the body only, then the close (no ALPN, and ALPN http/1.1)', async () => {
    for (const alpn of [undefined, ['http/1.1']]) {
      const r = await tlsRaw(port(), 'GET /\r\n', alpn);
      expect(r.data).toBe('tls\n');
      expect(r.closed).toBe(true);
    }
  });

  it('another method: the 400 page without a status line, closed, and nginx\'s info line', async () => {
    const r = await tlsRaw(port(), 'POST /x\r\n');
    expect(r.data).toMatch(/^<html>\r\n<head><title>400 Bad Request<\/title>/);
    expect(r.closed).toBe(true);
    await new Promise((res) => setTimeout(res, 200));
    // `*N`: the connection's number, as nginx's every line about a connection (and node:http's)
    expect(log()).toMatch(/\[info\] \d+#\d+: \*\d+ client sent invalid method in HTTP\/0\.9 request while reading client request line, client: 127\.0\.0\.1, server: [^\n]*, request: "POST \/x"$/m);
  });

  it('an HTTP/1.1 request on the same listen is served as before', async () => {
    const r = await tlsRaw(port(), 'GET / HTTP/1.1\r\nHost: h.test\r\nConnection: close\r\n\r\n');
    expect(r.data).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\ntls\n$/);
  });
}

onTlsFronts('HTTP/0.9 over TLS', NODE_TLS, noOpenssl, SERVER, checks);

onNginxTls('HTTP/0.9 over TLS', noOpenssl, SERVER, checks);
