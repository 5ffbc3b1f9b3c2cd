// TLS over HTTP/1.1 as the native engine serves it (native/engine/tls.c), and the same
// expectations on node:tls (TRESTY_TLS_ENGINE=node): SNI picking each server's certificate, the
// RSA / ECDSA pair choice, session tickets good in both workers, a client stalled mid-handshake
// not holding up others, a 1 MB static file, a POST body, pipelining, a client gone mid-answer,
// HTTP/1.0, nginx's 400 for plain HTTP and an https:// directory redirect.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';

const missing = spawnSync('sh', ['-c', 'command -v openssl'], { stdio: 'ignore' }).status === 0 ? null : 'openssl';
if (missing) console.warn('tls-engine tests skipped: openssl is not installed (Debian: apt-get install openssl)');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-tls-engine-'));
const file = (n: string): string => path.join(dir, n);
const big = crypto.randomBytes(1 << 20);

function makeCert(name: string, cn: string, kind: 'rsa' | 'ec'): void {
  const key = kind === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  execFileSync('openssl', ['req', '-x509', ...key, '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`),
    '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`], { stdio: 'ignore' });
}

beforeAll(() => {
  if (missing) return;
  makeCert('a-rsa', 'a.test', 'rsa');
  makeCert('a-ec', 'a.test', 'ec');
  makeCert('b', 'b.test', 'ec');
  fs.mkdirSync(file('html/dir'), { recursive: true });
  fs.writeFileSync(file('html/big.bin'), big);
  fs.writeFileSync(file('html/dir/index.html'), 'in dir\n');
});

afterAll(async () => {
  await stopAll();
  fs.rmSync(dir, { recursive: true, force: true });
});

const conf = (port: number, workers: number): string => `
worker_processes ${workers};
error_log logs/error.log info;
events {}
http {
  access_log off;
  server {
    listen 127.0.0.1:${port} ssl;
    server_name a.test;
    ssl_certificate ${file('a-rsa.crt')}; ssl_certificate_key ${file('a-rsa.key')};
    ssl_certificate ${file('a-ec.crt')}; ssl_certificate_key ${file('a-ec.key')};
    root ${file('html')};
    location = /who { return 200 "a $scheme $https $server_port $server_protocol\\n"; }
    location = /pid { return 200 "$pid"; }
    location = /post { content_by_js_block {
      await ngx.req.read_body();
      const b = ngx.req.get_body_data() ?? require('fs').readFileSync(ngx.req.get_body_file());
      ngx.say(b.length, ' ', require('crypto').createHash('sha256').update(b).digest('hex'));
    } }
  }
  server {
    listen 127.0.0.1:${port} ssl;
    server_name b.test *.b.test;
    ssl_certificate ${file('b.crt')}; ssl_certificate_key ${file('b.key')};
    location = /who { return 200 "b $scheme $https\\n"; }
  }
}
`;

interface Got { cn: string; fingerprint: string; reused: boolean; session?: Buffer; raw: string }

/** One TLS connection: writes `send` after the handshake, reads until the server closes. */
function talk(port: number, servername: string | undefined, send: string | Buffer | Buffer[], opts: tls.ConnectionOptions = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    let cn = '';
    let fingerprint = '';
    let reused = false;
    let session: Buffer | undefined;
    const chunks: Buffer[] = [];
    const s = tls.connect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}), rejectUnauthorized: false, ...opts }, () => {
      const peer = s.getPeerX509Certificate();
      cn = /CN=([^\n]*)/.exec(peer?.subject ?? '')?.[1] ?? '';
      fingerprint = peer?.fingerprint256 ?? '';
      reused = s.isSessionReused();
      for (const x of Array.isArray(send) ? send : [send]) s.write(x); // each write a TLS record of its own
    });
    s.on('session', (x: Buffer) => { session = x; });
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => resolve({ cn, fingerprint, reused, session, raw: Buffer.concat(chunks).toString('latin1') }));
  });
}

const get = (host: string, p: string, extra = ''): string => `GET ${p} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`;
const bodyOf = (raw: string): string => raw.slice(raw.indexOf('\r\n\r\n') + 4);

describe.skipIf(missing !== null).each(['native', 'node'] as const)('TLS on the %s front', (front) => {
  let t: TrestyProcess;
  let port: number;
  let t2: TrestyProcess;
  let port2: number;
  const env = front === 'node' ? { TRESTY_TLS_ENGINE: 'node' } : {};

  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(conf(port, 1), { env });
    port2 = await freePort();
    t2 = await startTresty(conf(port2, 2), { env });
  });

  it(`is served by the ${front === 'native' ? 'native engine' : 'node:tls'}`, async () => {
    expect(await eventually(() => t.errorLog(), /TLS on 127\.0\.0\.1:\d+: /)).toContain(`TLS on 127.0.0.1:${port}: ${front === 'native' ? 'native engine' : 'node:tls'}`);
  });

  it('SNI picks each server block and its certificate; no SNI or an unknown name gets the default server', async () => {
    const a = await talk(port, 'a.test', get('a.test', '/who'));
    expect(a.cn).toBe('a.test');
    expect(bodyOf(a.raw)).toBe(`a https on ${port} HTTP/1.1\n`);
    const b = await talk(port, 'b.test', get('b.test', '/who'));
    expect(b.cn).toBe('b.test');
    expect(bodyOf(b.raw)).toBe('b https on\n');
    expect((await talk(port, 'x.b.test', get('x.b.test', '/who'))).cn).toBe('b.test'); // *.b.test
    expect((await talk(port, 'unknown.test', get('a.test', '/who'))).cn).toBe('a.test');
    expect((await talk(port, undefined, get('b.test', '/who'))).cn).toBe('a.test');
  });

  it('holds an RSA and an ECDSA pair in one server: each client gets the one it can use', async () => {
    const ec = await talk(port, 'a.test', get('a.test', '/who'), { maxVersion: 'TLSv1.2', sigalgs: 'ecdsa_secp256r1_sha256', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    const rsa = await talk(port, 'a.test', get('a.test', '/who'), { maxVersion: 'TLSv1.2', sigalgs: 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    expect(ec.fingerprint).toBe(new crypto.X509Certificate(fs.readFileSync(file('a-ec.crt'))).fingerprint256);
    expect(rsa.fingerprint).toBe(new crypto.X509Certificate(fs.readFileSync(file('a-rsa.crt'))).fingerprint256);
    expect(bodyOf(ec.raw)).toContain('a https on');
  });

  it('resumes sessions from tickets in both workers (keys derived alike)', async () => {
    for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
      const first = await talk(port2, 'a.test', get('a.test', '/pid'), { maxVersion });
      expect(first.reused).toBe(false);
      expect(first.session).toBeDefined();
      const pids = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const r = await talk(port2, 'a.test', get('a.test', '/pid'), { maxVersion, session: first.session });
        expect(r.reused, `${maxVersion} #${i}`).toBe(true);
        pids.add(bodyOf(r.raw));
      }
      expect([...pids].every((p) => /^\d+$/.test(p))).toBe(true);
    }
  });

  it('a client stalled mid-handshake does not hold up others', async () => {
    const stalled: net.Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      await new Promise<void>((r) => s.once('connect', () => r()));
      s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])); // a ClientHello's first bytes
      stalled.push(s);
    }
    const r = await talk(port, 'a.test', get('a.test', '/who'));
    expect(bodyOf(r.raw)).toBe(`a https on ${port} HTTP/1.1\n`);
    for (const s of stalled) s.destroy();
  });

  it('sends a 1 MB static file intact, twice on one keep-alive connection', async () => {
    const req = `GET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n`;
    const r = await talk(port, 'a.test', req + get('a.test', '/big.bin'));
    const raw = Buffer.from(r.raw, 'latin1');
    const heads = r.raw.split('HTTP/1.1 200 OK').length - 1;
    expect(heads).toBe(2);
    const firstBody = raw.subarray(r.raw.indexOf('\r\n\r\n') + 4, r.raw.indexOf('\r\n\r\n') + 4 + big.length);
    expect(firstBody.equals(big)).toBe(true);
    expect(raw.subarray(raw.length - big.length).equals(big)).toBe(true);
  });

  it('reads a POST body (300 kB) over TLS', async () => {
    const body = crypto.randomBytes(300_000);
    const head = `POST /post HTTP/1.1\r\nHost: a.test\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    const r = await talk(port, 'a.test', Buffer.concat([Buffer.from(head), body]));
    expect(bodyOf(r.raw)).toContain(`${body.length} ${crypto.createHash('sha256').update(body).digest('hex')}\n`);
  });

  it('reads a small POST body sent with its head, and a second one pipelined after it', async () => {
    const one = (b: Buffer, close: boolean): Buffer => Buffer.concat([
      Buffer.from(`POST /post HTTP/1.1\r\nHost: a.test\r\nContent-Length: ${b.length}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`), b]);
    // text: get_body_data() gives a string (OpenResty's gives bytes as a Lua string)
    const b1 = Buffer.from(crypto.randomBytes(500).toString('hex'));
    const b2 = Buffer.from(crypto.randomBytes(1500).toString('hex'));
    // the head and the body in records of their own: the body is read at dispatch, through TLS
    const first = one(b1, false);
    const r = await talk(port, 'a.test', [first.subarray(0, first.length - b1.length), b1, one(b2, true)]);
    const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');
    expect(r.raw).toContain(`1000 ${sha(b1)}\n`);
    expect(r.raw).toContain(`3000 ${sha(b2)}\n`);
  });

  it('answers pipelined keep-alive requests in order', async () => {
    const reqs = `GET /who HTTP/1.1\r\nHost: a.test\r\n\r\n`.repeat(3) + get('b.test', '/who');
    const r = await talk(port, 'a.test', reqs);
    expect(r.raw.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(4);
    expect(r.raw.match(/a https on \d+ HTTP\/1\.1\n/g)).toHaveLength(3);
    expect(r.raw).toMatch(/b https on\n$/);
  });

  it('serves HTTP/1.0 and closes after the answer', async () => {
    const r = await talk(port, 'a.test', 'GET /who HTTP/1.0\r\nHost: a.test\r\n\r\n');
    expect(r.raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(bodyOf(r.raw)).toBe(`a https on ${port} HTTP/1.0\n`);
  });

  it('a client closing mid-answer leaves the worker serving', async () => {
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername: 'a.test', rejectUnauthorized: false }, () => {
          s.write(`GET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n`);
        });
        s.once('data', () => { s.destroy(); resolve(); });
        s.on('error', reject);
      });
    }
    const r = await talk(port, 'a.test', get('a.test', '/who'));
    expect(bodyOf(r.raw)).toBe(`a https on ${port} HTTP/1.1\n`);
  });

  it('redirects a directory to https://host:port/dir/', async () => {
    const r = await talk(port, 'a.test', get('a.test', '/dir'));
    expect(r.raw).toMatch(/^HTTP\/1\.1 301 /);
    expect(r.raw).toContain(`\r\nLocation: https://a.test:${port}/dir/\r\n`);
  });

  it('answers plain HTTP with nginx\'s 400 page and logs a failed handshake', async () => {
    const plain = await new Promise<string>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => c.write('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n'));
      let d = '';
      c.on('data', (x: Buffer) => { d += x; });
      c.on('close', () => resolve(d));
      c.on('error', () => resolve(d));
    });
    expect(plain).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(plain).toContain('The plain HTTP request was sent to HTTPS port');
    await new Promise<void>((resolve) => {
      // a ClientHello record whose hello is 4 bytes of nonsense
      const c = net.connect(port, '127.0.0.1', () => c.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef])));
      c.on('error', () => {});
      c.resume(); // read, so that the server's close is seen
      c.on('close', () => resolve());
    });
    expect(await eventually(() => t.errorLog(), /SSL_do_handshake\(\) failed/)).toMatch(/\[info\] .*SSL_do_handshake\(\) failed \(/);
  });
});
