// TLS through the real server, with certificates made at test time by the openssl CLI: an RSA
// and an ECDSA pair in one server (each client gets the one it can use), SNI choosing between
// two server blocks and their certificates, $scheme/$https in handlers, HTTP/2 through
// `curl --http2` next to HTTP/1.1 on one port, ssl_certificate_by_js choosing a certificate per
// handshake, session resumption, and https:// upstreams with proxy_ssl_verify. The HTTP/1.1 cases
// go to a second listen without http2 (port1), which the native engine serves unless
// TRESTY_TLS_ENGINE=node (vitest's tls:node project runs this file that way too).
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runTresty, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';

const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const missing = !have('openssl') ? 'openssl' : !have('curl') ? 'curl' : null;
if (missing) console.warn(`tls tests skipped: ${missing} is not installed (Debian: apt-get install ${missing})`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-certs-'));
const file = (n: string): string => path.join(dir, n);

/** A self-signed certificate for `cn` (its own CA), RSA or ECDSA P-256. */
function makeCert(name: string, cn: string, kind: 'rsa' | 'ec'): void {
  const key = kind === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  execFileSync('openssl', ['req', '-x509', ...key, '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`),
    '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`], { stdio: 'ignore' });
}

let t: TrestyProcess;
let port: number;
let port1: number;
let upstream: https.Server;
let upstreamSni: string | undefined;

afterAll(async () => {
  await stopAll();
  upstream?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  if (missing) return;
  makeCert('a-rsa', 'a.test', 'rsa');
  makeCert('a-ec', 'a.test', 'ec');
  makeCert('b', 'b.test', 'rsa');
  makeCert('dyn', 'dyn.test', 'ec');
  makeCert('up', 'up.test', 'rsa');
  fs.writeFileSync(file('a-both.crt'), fs.readFileSync(file('a-rsa.crt'), 'utf8') + fs.readFileSync(file('a-ec.crt'), 'utf8'));
  upstream = https.createServer({ key: fs.readFileSync(file('up.key')), cert: fs.readFileSync(file('up.crt')) }, (req, res) => {
    upstreamSni = (req.socket as tls.TLSSocket).servername || undefined;
    res.end(`secure upstream ${req.url}`);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const up = (upstream.address() as { port: number }).port;
  port = await freePort();
  port1 = await freePort();
  t = await startTresty(`
worker_processes 2;
error_log logs/error.log info;
events {}
http {
  access_log off;
  ssl_session_cache shared:SSL:1m;
  server {
    listen 127.0.0.1:${port} ssl http2 default_server;
    listen 127.0.0.1:${port1} ssl default_server;
    server_name a.test;
    ssl_certificate ${file('a-rsa.crt')}; ssl_certificate_key ${file('a-rsa.key')};
    ssl_certificate ${file('a-ec.crt')}; ssl_certificate_key ${file('a-ec.key')};
    location = /who { return 200 "a $scheme $https $server_protocol"; }
    location = /post { content_by_js_block {
      await ngx.req.read_body();
      // 100000 bytes are past client_body_buffer_size (8k): in a temp file, as nginx keeps them.
      const f = ngx.req.get_body_file();
      ngx.say('got ', f ? require('fs').statSync(f).size : -1, ' over ', ngx.var.server_protocol);
    } }
    location /up/ { proxy_pass https://127.0.0.1:${up}/; }
    location /up-verify/ {
      proxy_ssl_verify on; proxy_ssl_trusted_certificate ${file('up.crt')};
      proxy_ssl_name up.test; proxy_ssl_server_name on;
      proxy_pass https://127.0.0.1:${up}/;
    }
    location /up-wrong/ {
      proxy_ssl_verify on; proxy_ssl_trusted_certificate ${file('up.crt')};
      proxy_pass https://127.0.0.1:${up}/;
    }
  }
  server {
    listen 127.0.0.1:${port} ssl http2;
    listen 127.0.0.1:${port1} ssl;
    server_name b.test;
    ssl_certificate ${file('b.crt')}; ssl_certificate_key ${file('b.key')};
    location = /who { return 200 "b $scheme $https"; }
  }
  server {
    listen 127.0.0.1:${port} ssl http2;
    listen 127.0.0.1:${port1} ssl;
    server_name dyn.test other.test;
    ssl_protocols TLSv1.3;
    ssl_certificate ${file('b.crt')}; ssl_certificate_key ${file('b.key')};
    ssl_certificate_by_js_block {
      const { ssl } = await import('tresty/ssl');
      ngx.log(ngx.INFO, 'handshake for ', ssl.server_name(ngx));
      if (ssl.server_name(ngx) !== 'dyn.test') return;
      const fs = require('node:fs');
      ssl.clear_certs(ngx);
      ssl.set_cert(ngx, fs.readFileSync('${file('dyn.crt')}', 'utf8'));
      ssl.set_priv_key(ngx, fs.readFileSync('${file('dyn.key')}', 'utf8'));
    }
    location = /who { return 200 "dyn $https"; }
  }
}
`);
});

interface Hello { cn: string; body: string; reused: boolean; session?: Buffer; alpn: string | false }

/** One HTTP/1.1 request over TLS; `opts` reach tls.connect (servername, sigalgs, session ...). */
function hello(servername: string, urlPath: string, opts: tls.ConnectionOptions = {}, p = port1): Promise<Hello> {
  return new Promise((resolve, reject) => {
    let cn = '';
    let reused = false;
    const s = tls.connect({ host: '127.0.0.1', port: p, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], ...opts }, () => {
      // Read what the handshake gave while the socket is open.
      cn = String(s.getPeerCertificate().subject?.CN ?? '');
      reused = s.isSessionReused();
      s.write(`GET ${urlPath} HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    let session: Buffer | undefined;
    s.on('session', (x: Buffer) => { session = x; });
    s.on('data', (d: Buffer) => { data += d; });
    s.on('error', reject);
    s.on('close', () => {
      resolve({ cn, body: data.slice(data.indexOf('\r\n\r\n') + 4), reused, session, alpn: s.alpnProtocol });
    });
  });
}

function curl(args: string[]): { out: string; code: number | null } {
  const r = spawnSync('curl', ['-s', '--max-time', '10', '--resolve', `a.test:${port}:127.0.0.1`, '--resolve', `b.test:${port}:127.0.0.1`, ...args], { encoding: 'utf8' });
  return { out: r.stdout, code: r.status };
}

describe.skipIf(missing !== null)('TLS listeners', () => {
  it('serves $scheme https and $https on over TLS', async () => {
    const r = await hello('a.test', '/who');
    expect(r.body).toBe('a https on HTTP/1.1');
    expect(r.cn).toBe('a.test');
  });

  it('holds an RSA and an ECDSA certificate: each client gets the one it can verify', async () => {
    const ec = await hello('a.test', '/who', { sigalgs: 'ecdsa_secp256r1_sha256', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    const rsa = await hello('a.test', '/who', { sigalgs: 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    expect(ec.body).toBe('a https on HTTP/1.1');
    expect(rsa.body).toBe('a https on HTTP/1.1');
    const ecCert = new crypto.X509Certificate(fs.readFileSync(file('a-ec.crt')));
    const rsaCert = new crypto.X509Certificate(fs.readFileSync(file('a-rsa.crt')));
    const peer = (o: tls.ConnectionOptions): Promise<string> => new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: port1, servername: 'a.test', rejectUnauthorized: false, maxVersion: 'TLSv1.2', ...o }, () => {
        resolve(s.getPeerX509Certificate()!.fingerprint256);
        s.end();
      });
      s.on('error', reject);
    });
    expect(await peer({ sigalgs: 'ecdsa_secp256r1_sha256', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' })).toBe(ecCert.fingerprint256);
    expect(await peer({ sigalgs: 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).toBe(rsaCert.fingerprint256);
  });

  it('SNI picks the server block and its certificate', async () => {
    const b = await hello('b.test', '/who');
    expect(b.cn).toBe('b.test');
    expect(b.body).toBe('b https on');
    const none = await hello('unknown.test', '/who');
    expect(none.cn).toBe('a.test'); // the default server
  });

  // port: node:tls (http2); port1: the native engine, unless TRESTY_TLS_ENGINE=node
  it.each([['http2', () => port], ['HTTP/1.1', () => port1]] as const)('ssl_certificate_by_js chooses a certificate per handshake (listen with %s)', async (_, p) => {
    const d = await hello('dyn.test', '/who', {}, p());
    expect(d.cn).toBe('dyn.test');
    expect(d.body).toBe('dyn on');
    const o = await hello('other.test', '/who', {}, p());
    expect(o.cn).toBe('b.test'); // the handler left the conf's certificate
    expect(await eventually(() => t.errorLog(), /handshake for other\.test/)).toMatch(/\[info\] .*\[js\] .*handshake for dyn\.test/);
  });

  it('ssl_protocols of an SNI server: the default server\'s range holds, as on nginx 1.22 (test/tls-sni.test.ts)', async () => {
    expect((await hello('other.test', '/who', { maxVersion: 'TLSv1.2' }, port)).body).toBe('dyn on');
    expect((await hello('a.test', '/who', { maxVersion: 'TLSv1.2' })).body).toBe('a https on HTTP/1.1');
  });

  it('resumes sessions (tickets derived alike in every worker)', async () => {
    const first = await hello('a.test', '/who', { maxVersion: 'TLSv1.2' });
    expect(first.reused).toBe(false);
    let reused = 0;
    for (let i = 0; i < 4; i++) if ((await hello('a.test', '/who', { maxVersion: 'TLSv1.2', session: first.session })).reused) reused++;
    expect(reused).toBe(4);
  });

  it('sends `server: tresty` and a date on HTTP/2 and on HTTP/1.1 over TLS, as nginx its name', () => {
    for (const v of ['--http2', '--http1.1']) {
      const h = curl([v, '--cacert', file('a-both.crt'), '-D', '-', '-o', '/dev/null', `https://a.test:${port}/who`]).out;
      expect(h.match(/^server: .*$/gim), v).toEqual([expect.stringMatching(/^server: tresty\r?$/i)]);
      expect(h, v).toMatch(/^date: \w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT\r?$/im);
    }
  });

  it('speaks HTTP/2 to `curl --http2`, and HTTP/1.1 on the same port', () => {
    const h2 = curl(['--http2', '--cacert', file('a-both.crt'), '-w', ' %{http_version}', `https://a.test:${port}/who`]);
    expect(h2.out).toBe('a https on HTTP/2.0 2');
    const b2 = curl(['--http2', '--cacert', file('b.crt'), '-w', ' %{http_version}', `https://b.test:${port}/who`]);
    expect(b2.out).toBe('b https on 2');
    const h1 = curl(['--http1.1', '--cacert', file('a-both.crt'), '-w', ' %{http_version}', `https://a.test:${port}/who`]);
    expect(h1.out).toBe('a https on HTTP/1.1 1.1');
    const post = curl(['--http2', '-k', '--data-binary', 'x'.repeat(100_000), '-w', ' %{http_version}', `https://a.test:${port}/post`]);
    expect(post.out).toBe('got 100000 over HTTP/2.0\n 2');
  });

  it('answers plain HTTP on an ssl port with nginx\'s 400 page', async () => {
    const r = await new Promise<string>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => c.write('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n'));
      let d = '';
      c.on('data', (x: Buffer) => { d += x; });
      c.on('end', () => resolve(d));
      c.on('error', reject);
    });
    expect(r).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(r).toContain('The plain HTTP request was sent to HTTPS port');
  });

  it('tresty -t names the conf line of a certificate that cannot be loaded', async () => {
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-tls-t-'));
    fs.mkdirSync(path.join(prefix, 'conf'));
    fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'),
      'events {}\nhttp {\n  server {\n    listen 127.0.0.1:1 ssl;\n    ssl_certificate missing.crt;\n    ssl_certificate_key missing.key;\n  }\n}\n');
    const r = await runTresty(['-p', prefix, '-t']);
    fs.rmSync(prefix, { recursive: true, force: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot load certificate ".*missing\.crt": ENOENT in .*nginx\.conf:5/);
  });

  it('proxies to https:// upstreams; proxy_ssl_verify checks the name against the trusted certificate', async () => {
    const plain = await hello('a.test', '/up/x');
    expect(plain.body).toBe('secure upstream /x');
    expect(upstreamSni).toBeUndefined(); // proxy_ssl_server_name is off by default
    const verified = await hello('a.test', '/up-verify/y');
    expect(verified.body).toBe('secure upstream /y');
    expect(upstreamSni).toBe('up.test');
    const wrong = await hello('a.test', '/up-wrong/z');
    expect(wrong.body).toContain('502 Bad Gateway');
    expect(await eventually(() => t.errorLog(), /SSL certificate verify error/)).toMatch(/upstream SSL certificate verify error: .* while SSL handshaking to upstream/);
  });
});


describe.skipIf(missing !== null)('TLS session ids (ssl_session_cache, tickets off)', () => {
  let p1: number;
  let p2: number;

  beforeAll(async () => {
    p1 = await freePort();
    p2 = await freePort();
    await startTresty(`
worker_processes 1;
events {}
http {
  access_log off;
  ssl_session_tickets off;
  server {
    listen 127.0.0.1:${p1} ssl;
    ssl_certificate ${file('b.crt')}; ssl_certificate_key ${file('b.key')};
    ssl_session_cache shared:SSL:1m;
    location / { return 200 "cached"; }
  }
  server {
    listen 127.0.0.1:${p2} ssl;
    ssl_certificate ${file('b.crt')}; ssl_certificate_key ${file('b.key')};
    location / { return 200 "uncached"; }
  }
}
`);
  });

  /** Two TLS 1.2 handshakes, the second offering the first's session; true when it was resumed. */
  async function resumed(p: number): Promise<boolean> {
    const once = (session?: Buffer): Promise<{ reused: boolean; session?: Buffer }> => new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: p, rejectUnauthorized: false, maxVersion: 'TLSv1.2', session }, () => {
        const reused = s.isSessionReused();
        const got = s.getSession();
        s.end();
        resolve({ reused, session: got });
      });
      s.on('error', reject);
    });
    const first = await once();
    return (await once(first.session)).reused;
  }

  it('resumes a session by its id where ssl_session_cache is on, and not where it is off', async () => {
    expect(await resumed(p1)).toBe(true);
    expect(await resumed(p2)).toBe(false);
  });
});
