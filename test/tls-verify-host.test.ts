// ssl_verify_client across SNI and Host, as nginx 1.22 does it (observed; the same expectations
// run on nginx where it is installed), on the engine's TLS and (vitest's tls:node project) on
// node:tls. The handshake asks for a certificate as the SNI name's server says (a server without
// certificates of its own does not bring its settings: the default's context serves it); each
// request is then checked against the server its Host chose: 400 "No required SSL certificate
// was sent" when that one says `on` and none came, and 421 when the SNI name matched a server,
// the Host (none: '') names another and the Host's server verifies clients.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { bodyOf, opensslMissing as missing, tlsAsk, tlsFiles } from './helpers/tls-files.js';
import { eventually } from './helpers/upstream.js';

const noNginx = nginxMissing();
const files = tlsFiles('tls-verify-host');
const file = files.file;

beforeAll(() => {
  if (missing) return;
  files.selfSigned('a', 'a.test');
  files.selfSigned('ca', 'ca');
  files.signed('c', 'client', 'ca');
});
afterAll(() => { files.remove(); });

interface Ports { b: number; a: number }

/** `b`: the default a.test asks nothing, b.test (no certificate) says `on`; `a`: the default
 *  a.test says `on`, b.test (no certificate) asks nothing. */
const servers = (p: Ports): string => {
  const pair = `ssl_certificate ${file('a.crt')}; ssl_certificate_key ${file('a.key')}; ssl_protocols TLSv1.2 TLSv1.3;`;
  const on = `ssl_verify_client on; ssl_client_certificate ${file('ca.crt')};`;
  return `
  server { listen 127.0.0.1:${p.b} ssl; server_name a.test; ${pair} location / { return 200 "a v=$ssl_client_verify\\n"; } }
  server { listen 127.0.0.1:${p.b} ssl; server_name b.test; ${on} location / { return 200 "b v=$ssl_client_verify\\n"; } }
  server { listen 127.0.0.1:${p.a} ssl; server_name a.test; ${pair} ${on} location / { return 200 "a v=$ssl_client_verify\\n"; } }
  server { listen 127.0.0.1:${p.a} ssl; server_name b.test; location / { return 200 "b v=$ssl_client_verify\\n"; } }
`;
};

/** One request on a new connection: SNI `sni`, Host `host` (null: an HTTP/1.0 request without
 *  one), the client certificate when `cert`. "STATUS body" (a page's title for its body), or the
 *  error. */
async function ask(port: number, sni: string, host: string | null, cert = false): Promise<string> {
  const got = await tlsAsk(port, { servername: sni, ...(cert ? { cert: fs.readFileSync(file('c.crt')), key: fs.readFileSync(file('c.key')) } : {}) },
    host === null ? 'GET / HTTP/1.0\r\n\r\n' : `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  if (got.startsWith('error: ')) return got;
  const status = /^HTTP\/1\.[01] (\d+)/.exec(got)?.[1] ?? '?';
  const body = bodyOf(got);
  const title = /<title>(.*)<\/title>/.exec(body)?.[1];
  return `${status} ${title ?? body.trim()}${/\r\nConnection: close\r\n/i.test(got) ? '' : ' (kept open)'}`;
}

function shared(name: string, up: () => Promise<{ ports: Ports; errorLog: () => string }>): void {
  describe(name, () => {
    let p: Ports = { b: 0, a: 0 };
    let errorLog: () => string = () => '';
    beforeAll(async () => { ({ ports: p, errorLog } = await up()); });

    it('the Host\'s server verifies clients, the SNI name matched another: 421 Misdirected Request', async () => {
      expect(await ask(p.b, 'a.test', 'a.test')).toBe('200 a v=NONE');
      expect(await ask(p.b, 'a.test', 'b.test')).toBe('421 421 Misdirected Request');
      expect(await ask(p.b, 'a.test', 'B.Test.:443')).toBe('421 421 Misdirected Request');
      expect(await ask(p.a, 'b.test', 'a.test', true)).toBe('421 421 Misdirected Request');
      // no Host: nginx looks up '' and gets the default server, here a.test with `on`
      expect(await ask(p.a, 'a.test', null)).toBe('421 421 Misdirected Request');
      expect(await ask(p.b, 'a.test', null)).toBe('200 a v=NONE');
      const line = /\[info\] .*client attempted to request the server name different from the one that was negotiated while reading client request headers/;
      expect(await eventually(errorLog, line)).toMatch(line);
    });

    it('the handshake asks as the SNI name\'s server does; the request is checked as the Host\'s server says', async () => {
      // b.test has no certificate: the default's context (no client certificate asked) serves it
      expect(await ask(p.b, 'b.test', 'b.test')).toBe('400 400 No required SSL certificate was sent');
      expect(await ask(p.b, 'b.test', 'b.test', true)).toBe('400 400 No required SSL certificate was sent');
      expect(await ask(p.b, 'b.test', 'a.test', true)).toBe('200 a v=NONE');
      // the default a.test asked: b.test's request (no verify) sees the certificate
      expect(await ask(p.a, 'a.test', 'b.test')).toBe('200 b v=NONE');
      expect(await ask(p.a, 'a.test', 'b.test', true)).toBe('200 b v=SUCCESS');
      expect(await ask(p.a, 'b.test', 'b.test')).toBe('200 b v=NONE');
    });
  });
}

describe.skipIf(missing !== null)(`ssl_verify_client by the Host's server${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let t: TrestyProcess;
  afterAll(async () => { await t?.stop(); });
  shared(`on tresty (${process.env.TRESTY_TLS_ENGINE === 'node' ? 'node:tls' : "the engine's TLS"})`, async () => {
    const ports = { b: await freePort(), a: await freePort() };
    t = await startTresty(`worker_processes 1;\nerror_log logs/error.log info;\nevents {}\nhttp {\n  access_log off;\n${servers(ports)}\n}\n`);
    return { ports, errorLog: () => t.errorLog() };
  });
});

describe.skipIf(missing !== null || noNginx !== null)(`the same on nginx${noNginx ? ` (skipped: ${noNginx})` : ''}`, () => {
  let n: Nginx;
  afterAll(async () => { await n?.stop(); });
  shared('nginx 1.22', async () => {
    const ports = { b: await freePort(), a: await freePort() };
    n = await startNginx('location / { return 200; }', servers(ports));
    return { ports, errorLog: () => n.errorLog() };
  });
});
