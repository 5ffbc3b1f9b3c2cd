// $ssl_ciphers and $ssl_curves, what the client's ClientHello offered, in nginx 1.22's format
// (observed; the same expectations run on nginx where it is installed): OpenSSL's names ':'-joined
// in the client's order, the renegotiation SCSV included. On the engine's TLS and (vitest's
// tls:node project) on node:tls, which reads them from the ClientHello before the handshake.
import type tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { bodyOf, opensslMissing as missing, tlsAsk, tlsFiles } from './helpers/tls-files.js';

const noNginx = nginxMissing();
const files = tlsFiles('tls-offered');
const file = files.file;

beforeAll(() => { if (!missing) files.selfSigned('a', 'a.test'); });
afterAll(() => { files.remove(); });

const servers = (port: number, plain: number): string => `
  server { listen 127.0.0.1:${port} ssl; ssl_certificate ${file('a.crt')}; ssl_certificate_key ${file('a.key')};
    ssl_protocols TLSv1.2 TLSv1.3; ssl_ecdh_curve X25519:prime256v1:secp384r1; location / { return 200 "c=$ssl_ciphers cu=$ssl_curves\\n"; } }
  server { listen 127.0.0.1:${plain}; location / { return 200 "c=[$ssl_ciphers] cu=[$ssl_curves]\\n"; } }
`;

const get = async (port: number, opts: tls.ConnectionOptions): Promise<string> => bodyOf(await tlsAsk(port, opts));

function shared(name: string, up: () => Promise<{ port: number; plain: number }>): void {
  describe(name, () => {
    let p = { port: 0, plain: 0 };
    beforeAll(async () => { p = await up(); });

    it('TLS 1.2: the offered ciphers in order, the SCSV last; the offered groups', async () => {
      expect(await get(p.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA:ECDHE-RSA-CHACHA20-POLY1305',
        ecdhCurve: 'prime256v1:X25519' }))
        .toBe('c=ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA:ECDHE-RSA-CHACHA20-POLY1305:TLS_EMPTY_RENEGOTIATION_INFO_SCSV cu=prime256v1:X25519\n');
    });

    it('TLS 1.3: its suites first', async () => {
      expect(await get(p.port, { minVersion: 'TLSv1.3', ciphers: 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
        ecdhCurve: 'X25519:secp384r1' }))
        .toMatch(/^c=TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:.*TLS_EMPTY_RENEGOTIATION_INFO_SCSV cu=X25519:secp384r1\n$/);
    });

    it('plain HTTP: not found (empty)', async () => {
      const r = await fetch(`http://127.0.0.1:${p.plain}/`);
      expect(await r.text()).toBe('c=[] cu=[]\n');
    });
  });
}

describe.skipIf(missing !== null)(`$ssl_ciphers, $ssl_curves${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let t: TrestyProcess;
  afterAll(async () => { await t?.stop(); });
  shared(`on tresty (${process.env.TRESTY_TLS_ENGINE === 'node' ? 'node:tls' : "the engine's TLS"})`, async () => {
    const port = await freePort();
    const plain = await freePort();
    t = await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;\n${servers(port, plain)}\n}\n`);
    return { port, plain };
  });
});

describe.skipIf(missing !== null || noNginx !== null)(`the same on nginx${noNginx ? ` (skipped: ${noNginx})` : ''}`, () => {
  let n: Nginx;
  afterAll(async () => { await n?.stop(); });
  shared('nginx 1.22', async () => {
    const port = await freePort();
    const plain = await freePort();
    n = await startNginx('location / { return 200; }', servers(port, plain));
    return { port, plain };
  });
});
