// ssl_reject_handshake, as nginx 1.22 does it (observed; the same expectations run on nginx where
// it is installed), on the engine's TLS and (vitest's tls:node project) on node:tls: the usual
// catch-all default server that refuses unknown names, with and without a certificate of its own.
// A name no server has, or no name at all, gets a fatal unrecognized_name alert and the info line
// "handshake rejected while SSL handshaking"; a named server (even one without a certificate,
// served with the default's) is untouched, and so is the Host header's later choice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, makePrefix, runTresty, startTresty, type TrestyProcess } from './helpers/server.js';
import { bodyOf, opensslMissing as missing, tlsAsk, tlsFiles } from './helpers/tls-files.js';
import { eventually } from './helpers/upstream.js';

const noNginx = nginxMissing();
const files = tlsFiles('tls-reject');
const file = files.file;

beforeAll(() => { if (!missing) files.selfSigned('a', 'a.test'); });
afterAll(() => { files.remove(); });

const pair = (): string => `ssl_certificate ${file('a.crt')}; ssl_certificate_key ${file('a.key')};`;

/** `bare`: the catch-all has no certificate; `own`: it has one, and a.test has none of its own. */
const servers = (bare: number, own: number): string => `
  server { listen 127.0.0.1:${bare} ssl default_server; ssl_reject_handshake on; }
  server { listen 127.0.0.1:${bare} ssl; server_name a.test; ${pair()} location / { return 200 "a\\n"; } }
  server { listen 127.0.0.1:${own} ssl default_server; ssl_reject_handshake on; ${pair()} location / { return 200 "default\\n"; } }
  server { listen 127.0.0.1:${own} ssl; server_name a.test; location / { return 200 "a2\\n"; } }
`;

/** A handshake (`name` as SNI, '' for none), then GET / with `host`: the body, or the error's code. */
async function shake(port: number, name: string, host = name): Promise<string> {
  return bodyOf(await tlsAsk(port, name ? { servername: name } : {}, `GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
}

const REJECTED = 'error: ERR_SSL_TLSV1_UNRECOGNIZED_NAME';

function shared(name: string, up: () => Promise<{ bare: number; own: number; errorLog: () => string }>): void {
  describe(name, () => {
    let p = { bare: 0, own: 0, errorLog: (): string => '' };
    beforeAll(async () => { p = await up(); });

    it('a catch-all without a certificate: unknown names and no name are refused, a.test is served', async () => {
      expect(await shake(p.bare, 'a.test')).toBe('a\n');
      expect(await shake(p.bare, 'zz.test')).toBe(REJECTED);
      expect(await shake(p.bare, '')).toBe(REJECTED);
      const line = /\[info\] .*handshake rejected while SSL handshaking, client: 127\.0\.0\.1/;
      expect(await eventually(p.errorLog, line)).toMatch(line);
    });

    it('a catch-all with a certificate: the same; a.test (no certificate of its own) gets the default\'s, and Host still picks', async () => {
      expect(await shake(p.own, 'a.test')).toBe('a2\n');
      expect(await shake(p.own, 'zz.test')).toBe(REJECTED);
      expect(await shake(p.own, '')).toBe(REJECTED);
      // the handshake was a.test's: a Host no server has is the default server's request, answered
      expect(await shake(p.own, 'a.test', 'zz.test')).toBe('default\n');
    });
  });
}

describe.skipIf(missing !== null)(`ssl_reject_handshake${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let t: TrestyProcess;
  afterAll(async () => { await t?.stop(); });
  shared(`on tresty (${process.env.TRESTY_TLS_ENGINE === 'node' ? 'node:tls' : "the engine's TLS"})`, async () => {
    const bare = await freePort();
    const own = await freePort();
    t = await startTresty(`worker_processes 1;\nerror_log logs/error.log info;\nevents {}\nhttp {\n  access_log off;\n${servers(bare, own)}\n}\n`);
    return { bare, own, errorLog: () => t.errorLog() };
  });

  it('-t: a default server that rejects handshakes needs no certificate; a bad value names its line', async () => {
    expect((await runTresty(['-p', makePrefix(`events {}\nhttp {\n${servers(1, 2)}\n}\n`), '-t'])).code).toBe(0);
    const bad = await runTresty(['-p', makePrefix('events {}\nhttp {\n  server { listen 127.0.0.1:1 ssl; ssl_reject_handshake maybe; }\n}\n'), '-t']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/"ssl_reject_handshake".* in .*nginx\.conf:3/);
  });
});

describe.skipIf(missing !== null || noNginx !== null)(`the same on nginx${noNginx ? ` (skipped: ${noNginx})` : ''}`, () => {
  let n: Nginx;
  afterAll(async () => { await n?.stop(); });
  shared('nginx 1.22', async () => {
    const bare = await freePort();
    const own = await freePort();
    n = await startNginx('location / { return 200; }', servers(bare, own));
    return { bare, own, errorLog: () => n.errorLog() };
  });
});
