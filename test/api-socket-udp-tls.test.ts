// ngx.socket.udp against a UDP peer this file starts, and ngx.socket.tcp's sslhandshake against
// TLS peers with certificates made here (openssl CLI), also from a handshake handler
// (ssl_certificate_by_js); the line peer is helpers/socket-peer.ts's.
import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/server.js';
import { socketSuite } from './helpers/socket-peer.js';

/** A TLS server whose ssl_certificate_by_js talks to the peer through a cosocket. */
const certServer = (tlsPort: number, dir: string, peerPort: number): string => `
  server {
    listen 127.0.0.1:${tlsPort} ssl;
    ssl_certificate ${dir}/trusted.crt; ssl_certificate_key ${dir}/trusted.key;
    ssl_certificate_by_js_block {
      const [s, err] = await ngx.socket.connect('127.0.0.1', ${peerPort});
      if (!s) { ngx.log(ngx.ERR, 'cert-sock failed: ', err); return; }
      s.settimeout(3000);
      await s.send('ECHO from handshake\\n');
      ngx.log(ngx.ERR, 'cert-sock: ', (await s.receive())[0]);
      s.setkeepalive();
    }
    location / { return 200 "tls ok"; }
  }`;


/** A UDP peer: answers `pong:MSG`, or nothing when MSG says silent. */
const udpPeer = dgram.createSocket('udp4');
udpPeer.on('message', (m, from) => {
  if (!m.toString().includes('silent')) udpPeer.send(`pong:${m.toString()}`, from.port, from.address);
});

const OPENSSL = spawnSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' }).stdout.trim();
const NO_OPENSSL = OPENSSL ? '' : ' (skipped: the openssl CLI, which makes the test certificates, is not installed)';
const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-sock-certs-'));
const tlsServers: tls.Server[] = [];

/** A TLS line peer (ECHO only) with a self-signed certificate for localhost; resolves its port. */
async function tlsPeer(name: string): Promise<number> {
  if (!OPENSSL) return 1;
  const f = (ext: string): string => path.join(certDir, `${name}.${ext}`);
  execFileSync(OPENSSL, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', f('key'), '-out', f('crt'), '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  const srv = tls.createServer({ key: fs.readFileSync(f('key')), cert: fs.readFileSync(f('crt')) }, (s) => {
    s.on('error', () => {});
    s.on('data', (d) => { for (const l of d.toString().split('\n')) if (l.startsWith('ECHO ')) s.write(`${l.slice(5)}\r\n`); });
  });
  tlsServers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as net.AddressInfo).port;
}


const LOCATIONS = `location = /tls {
      content_by_js_block {
        const sock = ngx.socket.tcp();
        sock.settimeout(3000);
        const port = ngx.var.arg_untrusted ? ${'${TLS2}'} : ${'${TLS1}'};
        { const [ok, err] = await sock.connect('127.0.0.1', port, { pool: 'tls-' + ngx.var.arg_pool });
          if (!ok) { ngx.say('connect failed: ', err); return; } }
        const [sess, err] = await sock.sslhandshake(null, ngx.var.arg_name ?? null, ngx.var.arg_verify === '1');
        if (!sess) { ngx.say('handshake: ', err); return; }
        await sock.send('ECHO secure\\n');
        const [line] = await sock.receive();
        const [again] = await sock.sslhandshake(false);
        ngx.say(line, ' ', sess.constructor.name, ' ', again, ' reused=', sock.getreusedtimes()[0]);
        sock.setkeepalive();
      }
    }
    location = /udp {
      content_by_js_block {
        const u = ngx.socket.udp();
        u.settimeout(Number(ngx.var.arg_ms ?? 3000));
        const port = ngx.var.arg_dead ? ${'${DEAD}'} : ${'${UDP}'};
        const r1 = await u.setpeername(ngx.var.arg_host ?? '127.0.0.1', port);
        const r2 = await u.send(['ping ', ngx.var.arg_t ?? 'x']);
        const r3 = await u.receive();
        ngx.say(JSON.stringify([r1, r2, r3, u.close(), u.close()]));
      }
    }`;

let certPort = 0;
const s = socketSuite(async (peerPort) => {
  const dead = await freePort();
  await new Promise<void>((r) => udpPeer.bind(0, '127.0.0.1', r));
  const udp = udpPeer.address().port;
  const tls1 = await tlsPeer('trusted');
  const tls2 = await tlsPeer('untrusted');
  certPort = await freePort();
  return {
    locations: LOCATIONS.replaceAll('${DEAD}', String(dead)).replaceAll('${UDP}', String(udp))
      .replaceAll('${TLS1}', String(tls1)).replaceAll('${TLS2}', String(tls2)),
    http: OPENSSL ? certServer(certPort, certDir, peerPort) : '',
    // The trusted peer's certificate is a CA the workers know, as a system CA would be.
    env: OPENSSL ? { NODE_EXTRA_CA_CERTS: path.join(certDir, 'trusted.crt') } : undefined,
  };
});
const { body, json } = s;

afterAll(() => {
  for (const x of tlsServers) x.close();
  udpPeer.close();
  fs.rmSync(certDir, { recursive: true, force: true });
});

describe('ngx.socket.udp', () => {
  it('setpeername, send, receive, close', async () => {
    expect(await json('/udp?t=hello')).toEqual([[true, null], [true, null], ['pong:ping hello', null], [true, null], [null, 'closed']]);
  });

  it('host names are resolved', async () => {
    expect(await json('/udp?host=localhost')).toEqual([[true, null], [true, null], ['pong:ping x', null], [true, null], [null, 'closed']]);
  });

  it('a peer that never answers gives "timeout"', async () => {
    expect(await json('/udp?t=silent&ms=200')).toEqual([[true, null], [true, null], [null, 'timeout'], [true, null], [null, 'closed']]);
  });

  it('a port nobody listens on: the ICMP refusal is reported', async () => {
    expect(await json('/udp?dead=1&ms=2000')).toEqual([[true, null], [true, null], [null, 'connection refused'], [true, null], [null, 'closed']]);
  });
});

describe.skipIf(!OPENSSL)(`ngx.socket.tcp: sslhandshake${NO_OPENSSL}`, () => {
  it('verifies the chain and the name; a pooled TLS connection comes back in TLS', async () => {
    expect(await body('/tls?verify=1&name=localhost&pool=a')).toBe('secure SslSession true reused=0');
    expect(await body('/tls?verify=1&name=localhost&pool=a')).toBe('secure SslSession true reused=1');
  });

  it('without a name only the chain is verified', async () => {
    expect(await body('/tls?verify=1&pool=b')).toBe('secure SslSession true reused=0');
  });

  it('a wrong name or an unknown issuer fails the handshake when verifying, as OpenResty says it', async () => {
    expect(await body('/tls?verify=1&name=other.example&pool=c')).toBe('handshake: certificate host mismatch');
    expect(await body('/tls?verify=1&name=localhost&untrusted=1&pool=d')).toBe('handshake: 18: self-signed certificate');
    expect(await body('/tls?name=localhost&untrusted=1&pool=e')).toBe('secure SslSession true reused=0');
  });
});

describe.skipIf(!OPENSSL)(`ngx.socket.tcp in ssl_certificate_by_js${NO_OPENSSL}`, () => {
  it('a handshake handler may use cosockets', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: certPort, servername: 'localhost', rejectUnauthorized: false }, () => {
        s.end('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
      });
      let out = '';
      s.on('data', (d) => { out += d; });
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
    expect(got).toContain('tls ok');
    expect(s.t().errorLog()).toContain('cert-sock: from handshake');
  });
});
