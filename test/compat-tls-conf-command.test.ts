// ssl_conf_command and proxy_ssl_conf_command: in force in real handshakes on each TLS front
// (node:tls both ways, the native engine's OpenSSL) and on nginx 1.22 + lua: Ciphersuites limits
// TLS 1.3's suites, MaxProtocol TLSv1.2 gives TLS 1.2, Options -SessionTicket gives no ticket;
// proxy_ssl_conf_command MaxProtocol TLSv1.2 reaches the upstream's handshake on both engines and
// nginx. `-t`: nginx's SSL_CONF_cmd error words, with the command's file:line; node:tls refuses a
// command it has no option for, naming it, where the native engine takes it. Before, tresty
// refused both directives as unknown.
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxConfError, nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { makePrefix, runTresty, startTresty, httpGet, freePort, type TrestyProcess } from './helpers/server.js';
import { opensslMissing, tlsFiles } from './helpers/tls-files.js';
import { ALL_TLS, onNginxTls, onTlsFronts } from './helpers/tls-fronts.js';
import { ENGINE_BUILT } from './helpers/engine.js';

const files = tlsFiles('confcmd');
if (opensslMissing === null) files.selfSigned('c', 'h.test');
afterAll(() => { files.remove(); });
const CERT = `ssl_certificate ${files.file('c.crt')}; ssl_certificate_key ${files.file('c.key')};`;

interface Hs { protocol: string | null; cipher: string; ticket: boolean }

/** One handshake (offering everything unless `opts` narrows it): what was agreed, and whether
 *  the server sent a session ticket (TLS 1.2: it comes with the handshake). */
function handshake(port: number, opts: tls.ConnectionOptions = {}): Promise<Hs> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'h.test', rejectUnauthorized: false, ...opts }, () => {
      const r = { protocol: s.getProtocol(), cipher: s.getCipher().name, ticket: s.getTLSTicket() !== undefined };
      s.destroy();
      resolve(r);
    });
    s.on('error', reject);
  });
}

// nginx 1.22's default protocols stop at TLS 1.2 (tresty's include 1.3): named, to compare alike
const LIMITED = `${CERT}
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_conf_command Ciphersuites TLS_CHACHA20_POLY1305_SHA256;
    ssl_conf_command Options -SessionTicket;
    location / { return 200 "tls\\n"; }`;

function limitedChecks(port: () => number): void {
  it('Ciphersuites: TLS 1.3 agrees on the one suite left', async () => {
    const r = await handshake(port());
    expect(r.protocol).toBe('TLSv1.3');
    expect(r.cipher).toBe('TLS_CHACHA20_POLY1305_SHA256');
  });
  it('a client without that suite gets no TLS 1.3 handshake', async () => {
    await expect(handshake(port(), { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' })).rejects.toThrow();
  });
  it('Options -SessionTicket: no ticket (TLS 1.2)', async () => {
    const r = await handshake(port(), { maxVersion: 'TLSv1.2' });
    expect(r.protocol).toBe('TLSv1.2');
    expect(r.ticket).toBe(false);
  });
}

const TLS12 = `${CERT}
    ssl_conf_command MaxProtocol TLSv1.2;
    location / { return 200 "tls\\n"; }`;

function tls12Checks(port: () => number): void {
  it('MaxProtocol TLSv1.2: a client offering TLS 1.3 gets TLS 1.2, with a ticket', async () => {
    const r = await handshake(port());
    expect(r.protocol).toBe('TLSv1.2');
    expect(r.ticket).toBe(true);
  });
}

onTlsFronts('ssl_conf_command Ciphersuites, Options -SessionTicket', ALL_TLS, opensslMissing, LIMITED, limitedChecks);
onNginxTls('ssl_conf_command Ciphersuites, Options -SessionTicket', opensslMissing, LIMITED, limitedChecks);
onTlsFronts('ssl_conf_command MaxProtocol', ALL_TLS, opensslMissing, TLS12, tls12Checks);
onNginxTls('ssl_conf_command MaxProtocol', opensslMissing, TLS12, tls12Checks);

/** An https upstream answering with the protocol of its handshake. */
function protocolUpstream(): Promise<https.Server> {
  const srv = https.createServer({ cert: fs.readFileSync(files.file('c.crt')), key: fs.readFileSync(files.file('c.key')) }, (req, res) => {
    res.end(`${(req.socket as tls.TLSSocket).getProtocol()}\n`);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

// nginx 1.22's proxy_ssl_protocols stop at TLS 1.2 by default: named, to compare alike
const proxied = (up: number): string => `proxy_ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass https://127.0.0.1:${up};
      proxy_ssl_conf_command MaxProtocol TLSv1.2;
    }
    location /plain { proxy_pass https://127.0.0.1:${up}; }`;

describe.skipIf(opensslMissing !== null)('proxy_ssl_conf_command MaxProtocol TLSv1.2', () => {
  let up: https.Server;
  let upPort = 0;
  beforeAll(async () => { up = await protocolUpstream(); upPort = (up.address() as AddressInfo).port; });
  afterAll(() => { up?.close(); });

  for (const e of ENGINES) {
    describe.skipIf(e.skip !== null)(titled(e, 'tresty'), () => {
      let t: TrestyProcess;
      let port = 0;
      beforeAll(async () => {
        port = await freePort();
        t = await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;\n  server {\n    listen 127.0.0.1:${port};\n    ${proxied(upPort)}\n  }\n}\n`, { env: e.env });
      });
      afterAll(async () => { await t?.stop(); });
      it('the upstream\'s handshake is TLS 1.2; without the command, TLS 1.3', async () => {
        expect((await httpGet(port, '/')).body).toBe('TLSv1.2\n');
        expect((await httpGet(port, '/plain')).body).toBe('TLSv1.3\n');
      });
    });
  }

  const why = nginxMissing();
  describe.skipIf(why !== null)(`nginx + lua${why ? ` (skipped: ${why})` : ''}`, () => {
    let n: Nginx;
    beforeAll(async () => { n = await startNginx(proxied(upPort)); });
    afterAll(async () => { await n?.stop(); });
    it('the upstream\'s handshake is TLS 1.2; without the command, TLS 1.3', async () => {
      expect((await httpGet(n.port, '/')).body).toBe('TLSv1.2\n');
      expect((await httpGet(n.port, '/plain')).body).toBe('TLSv1.3\n');
    });
  });
});

/** `tresty -t` on one TLS server with `body`; its first [emerg] line, or null when accepted. */
async function trestyTest(body: string, env: Record<string, string> = {}, listen = 'ssl'): Promise<string | null> {
  const p = makePrefix(`events {}\nhttp {\n  server {\n    listen 127.0.0.1:1 ${listen};\n    ${CERT}\n    ${body}\n  }\n}\n`);
  const r = await runTresty(['-p', p, '-t'], { env });
  if (r.code === 0) return null;
  return (r.stdout + r.stderr).split('\n').find((l) => l.includes('[emerg]')) ?? r.stderr;
}

describe.skipIf(opensslMissing !== null)('-t', () => {
  const BAD = ['ssl_conf_command Foo bar;', 'ssl_conf_command Ciphersuites NOPE;', 'ssl_conf_command Options Bogus;',
    'ssl_conf_command MaxProtocol TLSv9;'];
  for (const body of BAD) {
    it.skipIf(!ENGINE_BUILT || nginxMissing() !== null)(`${body}: nginx's words, and the command's file:line`, async () => {
      const ours = await trestyTest(`location / { return 200; }\n    ${body}`);
      const theirs = nginxConfError(`listen 127.0.0.1:2 ssl; ${CERT} ${body}`);
      expect(theirs).toMatch(/^nginx: \[emerg\] SSL_CONF_cmd\(/);
      const words = theirs!.replace(/^nginx: \[emerg\] /, '');
      expect(ours!.startsWith(`tresty: [emerg] ${words} in `)).toBe(true);
      expect(ours).toMatch(/ in \S*nginx\.conf:7$/);
      // on node:tls too (the addon checks, whichever front serves)
      const onNode = await trestyTest(`location / { return 200; }\n    ${body}`, { TRESTY_TLS_ENGINE: 'node' });
      expect(onNode!.replace(/ in \S*$/, '')).toBe(ours!.replace(/ in \S*$/, ''));
    });
  }

  it.skipIf(!ENGINE_BUILT)('a command node:tls has no option for: the native engine takes it, node:tls refuses it by name', async () => {
    expect(await trestyTest('ssl_conf_command NumTickets 0;')).toBeNull();
    for (const [env, listen] of [[{ TRESTY_TLS_ENGINE: 'node' }, 'ssl'], [{}, 'ssl http2']] as const) {
      expect(await trestyTest('ssl_conf_command NumTickets 0;', env, listen)).toMatch(
        /^tresty: \[emerg\] "ssl_conf_command" "NumTickets": node:tls has no option for it \(node:tls serves this server: .*the native engine applies every command\) in .*nginx\.conf:6$/);
    }
  });

  it('proxy_ssl_conf_command: checked where the proxy_pass is https, a command node:tls lacks refused by name', async () => {
    const loc = (pass: string, cmd: string): string => `location / { proxy_pass ${pass}://127.0.0.1:1; proxy_ssl_conf_command ${cmd}; }`;
    expect(await trestyTest(loc('https', 'MaxProtocol TLSv1.2'))).toBeNull();
    expect(await trestyTest(loc('http', 'NumTickets 1'))).toBeNull();
    expect(await trestyTest(loc('https', 'NumTickets 1'))).toMatch(
      /"proxy_ssl_conf_command" "NumTickets": node:tls has no option for it \(the proxy's TLS client is node:tls on both engines\) in .*nginx\.conf:6$/);
    if (ENGINE_BUILT) {
      expect(await trestyTest(loc('https', 'Foo bar'))).toMatch(/\[emerg\] SSL_CONF_cmd\("Foo", "bar"\) failed \(SSL: error:0A000182:SSL routines::unknown cmd name:cmd=Foo\) in .*nginx\.conf:6$/);
    }
  });
});

describe.skipIf(opensslMissing !== null || !ENGINE_BUILT)('a command only the native engine has, next to an http2 listen on node:tls', () => {
  let t: TrestyProcess;
  afterAll(async () => { await t?.stop(); });
  it('starts: node:tls does not judge the native engine\'s servers', async () => {
    const [a, b] = [await freePort(), await freePort()];
    t = await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;\n  ${CERT}
  server { listen 127.0.0.1:${a} ssl; ssl_conf_command NumTickets 0; location / { return 200; } }
  server { listen 127.0.0.1:${b} ssl http2; location / { return 200; } }\n}\n`, { env: { TRESTY_HTTP_ENGINE: 'native' } });
    expect((await handshake(a)).protocol).toBe('TLSv1.3');
    expect((await handshake(b)).protocol).toBe('TLSv1.3');
  });
});
