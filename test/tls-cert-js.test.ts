// ssl_certificate_by_js on an HTTP/1.1 TLS listen, which the native engine serves (its handshake
// waits for the handler: native/engine/tls_cert.c), and the same expectations on node:tls
// (TRESTY_TLS_ENGINE=node): two SNI names get the two certificates the handler chose, a name it
// leaves keeps the conf's, a handler that awaits, a throw and clear_certs() without a pair fail
// the handshake with their log lines, a client gone while the handler waits harms nothing, many
// handshakes at once each get their own certificate, a pair OpenSSL cannot use fails, and on the
// engine the handshake stays bounded by client_header_timeout and a chosen certificate gets no
// ssl_stapling_file response (the conf's certificate's).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';
import { opensslMissing as missing, tlsFiles } from './helpers/tls-files.js';
import { eventually } from './helpers/upstream.js';

const files = tlsFiles('cert-js');
const file = files.file;
const dir = path.dirname(file('x'));

/** NAME.key and a self-signed ECDSA P-256 NAME.crt for CN `cn` (tlsFiles' are RSA). */
function ecCert(name: string, cn: string): void {
  files.openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file(`${name}.key`),
    '-out', file(`${name}.crt`), '-days', '2', '-subj', `/CN=${cn}`);
}

beforeAll(() => {
  if (missing) return;
  ecCert('conf', 'conf.test');
  ecCert('one', 'one.test');
  files.selfSigned('two', 'two.test');
  files.selfSigned('ca', 'Chain CA');
  files.signed('leaf', 'chain.test', 'ca');
  fs.writeFileSync(file('leaf-chain.crt'), fs.readFileSync(file('leaf.crt'), 'utf8') + fs.readFileSync(file('ca.crt'), 'utf8'));
  // an OCSP response for conf.crt (self-signed: its own issuer), for ssl_stapling_file
  fs.writeFileSync(file('index.txt'), '');
  files.openssl('ocsp', '-issuer', file('conf.crt'), '-cert', file('conf.crt'), '-reqout', file('req.der'), '-no_nonce');
  files.openssl('ocsp', '-index', file('index.txt'), '-rsigner', file('conf.crt'), '-rkey', file('conf.key'), '-CA', file('conf.crt'),
    '-reqin', file('req.der'), '-respout', file('resp.der'), '-ndays', '1');
});

afterAll(async () => {
  await stopAll();
  files.remove();
});

interface Hello { cn: string; body: string; error?: string }

/** One HTTP/1.1 request over TLS with SNI `name`: the certificate's CN and the body, or the error. */
function hello(port: number, name: string): Promise<Hello> {
  return new Promise((resolve) => {
    let cn = '';
    let data = '';
    const s = tls.connect({ host: '127.0.0.1', port, servername: name, rejectUnauthorized: false }, () => {
      cn = String(s.getPeerCertificate().subject?.CN ?? '');
      s.write(`GET /who HTTP/1.1\r\nHost: ${name}\r\nConnection: close\r\n\r\n`);
    });
    s.setTimeout(10_000, () => s.destroy(new Error('timed out')));
    s.on('data', (d: Buffer) => { data += d; });
    s.on('error', (e) => resolve({ cn, body: '', error: e.message }));
    s.on('close', () => resolve({ cn, body: data.slice(data.indexOf('\r\n\r\n') + 4) }));
  });
}

/** The OCSP response stapled to a handshake with SNI `name` (null: none). */
function stapled(port: number, name: string): Promise<Buffer | null | string> {
  return new Promise((resolve) => {
    let got: Buffer | null = null;
    const s = tls.connect({ host: '127.0.0.1', port, servername: name, rejectUnauthorized: false, requestOCSP: true } as tls.ConnectionOptions, () => { s.end(); });
    s.on('close', () => resolve(got));
    s.on('OCSPResponse', (r: Buffer) => { got = r; });
    s.on('error', (e) => resolve(`error: ${e.message}`));
  });
}

const conf = (port: number): string => `
worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  server {
    listen 127.0.0.1:${port} ssl;
    server_name conf.test;
    # long enough for 60 handshakes at once on a loaded machine; stuck.test waits past it
    client_header_timeout 3s;
    ssl_certificate ${file('conf.crt')}; ssl_certificate_key ${file('conf.key')};
    ssl_certificate_by_js_block {
      const { ssl } = await import('tresty/ssl');
      const fs = require('node:fs');
      const name = ssl.server_name(ngx) ?? '';
      const pick = (n) => {
        ssl.clear_certs(ngx);
        ssl.set_cert(ngx, fs.readFileSync('${dir}/' + n + '.crt', 'utf8'));
        ssl.set_priv_key(ngx, fs.readFileSync('${dir}/' + n + '.key'));
      };
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      if (name.startsWith('one')) pick('one');
      else if (name.startsWith('two')) pick('two');
      else if (name === 'slow.test') { await sleep(300); pick('two'); }
      else if (name === 'throw.test') throw new Error('no certificate for you');
      else if (name === 'cleared.test') ssl.clear_certs(ngx);
      else if (name === 'chain.test') {
        ssl.clear_certs(ngx);
        ssl.set_cert(ngx, fs.readFileSync('${dir}/leaf-chain.crt'));
        ssl.set_priv_key(ngx, fs.readFileSync('${dir}/leaf.key'));
      }
      else if (name === 'der.test') {
        const [cert] = ssl.cert_pem_to_der(fs.readFileSync('${dir}/two.crt', 'utf8') + fs.readFileSync('${dir}/one.crt', 'utf8'));
        const [key] = ssl.priv_key_pem_to_der(fs.readFileSync('${dir}/two.key'));
        ssl.clear_certs(ngx);
        ngx.log(ngx.INFO, 'der: ', JSON.stringify([ssl.set_der_cert(ngx, cert), ssl.set_der_priv_key(ngx, key), ssl.set_der_cert(ngx, Buffer.from('junk')),
          ssl.cert_pem_to_der('no pem'), ssl.priv_key_pem_to_der('no pem')]));
        ssl.set_der_cert(ngx, cert);
      }
      else if (name === 'mismatch.test') { pick('one'); ssl.set_priv_key(ngx, fs.readFileSync('${dir}/two.key')); }
      else if (name === 'gone.test') { await sleep(400); ngx.log(ngx.INFO, 'gone.test handler done'); pick('one'); }
      else if (name === 'stuck.test') { await sleep(6000); pick('one'); }
    }
    location = /who { return 200 "hi $ssl_server_name"; }
  }
}
`;

describe.skipIf(missing !== null).each(['native', 'node'] as const)('ssl_certificate_by_js on the %s front', (front) => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(conf(port), { env: front === 'node' ? { TRESTY_TLS_ENGINE: 'node' } : {} });
  });

  it(`is served by the ${front === 'native' ? 'native engine' : 'node:tls'}`, async () => {
    expect(await eventually(() => t.errorLog(), /TLS on 127\.0\.0\.1:\d+: /)).toContain(`TLS on 127.0.0.1:${port}: ${front === 'native' ? 'native engine' : 'node:tls'}`);
  });

  it('gives two SNI names the two certificates the handler chose; another name keeps the conf\'s', async () => {
    expect(await hello(port, 'one.test')).toEqual({ cn: 'one.test', body: 'hi one.test' });
    expect(await hello(port, 'two.test')).toEqual({ cn: 'two.test', body: 'hi two.test' });
    expect(await hello(port, 'other.test')).toEqual({ cn: 'conf.test', body: 'hi other.test' });
  });

  it('waits for a handler that awaits', async () => {
    const t0 = Date.now();
    expect(await hello(port, 'slow.test')).toEqual({ cn: 'two.test', body: 'hi slow.test' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('sends the chain of a PEM set_cert gave, after its certificate', () => {
    // what the server sent, as `openssl s_client -showcerts` prints it (a client's own CA list
    // would fill in a missing chain)
    const sent = (name: string): string[] => [...files.openssl('s_client', '-connect', `127.0.0.1:${port}`, '-servername', name, '-showcerts')
      .matchAll(/^ *\d s:.*CN ?= ?([^,\n]+)/gm)].map((m) => m[1]!.trim());
    expect(sent('chain.test')).toEqual(['chain.test', 'Chain CA']);
    expect(sent('two.test')).toEqual(['two.test']);
  });

  it('takes a DER chain and key (set_der_cert, set_der_priv_key, made by cert_pem_to_der, priv_key_pem_to_der)', async () => {
    const r = await new Promise<{ subject: string }>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, servername: 'der.test', rejectUnauthorized: false }, () => {
        resolve({ subject: s.getPeerX509Certificate()?.subject ?? '' });
        s.end();
      });
      s.on('error', reject);
    });
    expect(r.subject).toBe('CN=two.test');
    expect(await eventually(() => t.errorLog(), /der: /)).toContain(
      'der: [[true],[true],[null,"d2i_X509() failed"],[null,"PEM_read_bio_X509_AUX() failed"],[null,"PEM_read_bio_PrivateKey() failed"]]');
  });

  it('fails the handshake on a throw, with the handler\'s line and the handshake\'s', async () => {
    const r = await hello(port, 'throw.test');
    expect(r.error).toBeDefined();
    expect(r.body).toBe('');
    const log = await eventually(() => t.errorLog(), /SSL certificate selection failed/);
    // nginx's: the handler's fake connection (`*N`), its context, client (node:tls: the engine tells none) and listen address
    expect(log).toMatch(/\[error\] \d+#\d+: \*\d+ js entry thread aborted: runtime error: \S+:\d+: Error: no certificate for you \(TRESTY_ERR_HANDLER\)\nstack traceback:\n[^]*?, context: ssl_certificate_by_js\*(?:, client: 127\.0\.0\.1)?, server: 127\.0\.0\.1:\d+\n/);
    expect(log).toMatch(/\[info\] .*SSL certificate selection failed \(ssl_certificate_by_js failed\) while SSL handshaking, client: 127\.0\.0\.1/);
    expect((await hello(port, 'one.test')).cn).toBe('one.test'); // the worker goes on
  });

  it('fails the handshake when clear_certs() gets no new pair', async () => {
    expect((await hello(port, 'cleared.test')).error).toBeDefined();
    expect(await eventually(() => t.errorLog(), /cleared the certificates/)).toMatch(
      /\[info\] .*SSL certificate selection failed \(ssl_certificate_by_js cleared the certificates and set none\) while SSL handshaking/);
  });

  it('fails the handshake when the pair cannot be used (a key not the certificate\'s)', async () => {
    expect((await hello(port, 'mismatch.test')).error).toBeDefined();
    // node:tls takes such a pair and fails later, in OpenSSL's own words (`no suitable signature algorithm`)
    if (front === 'node') return;
    expect(await eventually(() => t.errorLog(), /SSL certificate selection failed \((?!ssl_cert)/)).toMatch(
      /\[info\] .*SSL certificate selection failed \(.*(mismatch|private key).*\) while SSL handshaking/);
  });

  it('harms nothing when the client goes away while the handler waits', async () => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'gone.test', rejectUnauthorized: false });
    s.on('error', () => { /* destroyed on purpose */ });
    await new Promise((r) => setTimeout(r, 150));
    s.destroy();
    await eventually(() => t.errorLog(), /gone\.test handler done/);
    await new Promise((r) => setTimeout(r, 100));
    expect(await hello(port, 'two.test')).toEqual({ cn: 'two.test', body: 'hi two.test' });
    expect(t.errorLog()).not.toMatch(/\[(alert|crit|emerg)\]/);
  });

  it('keeps many concurrent handshakes apart', async () => {
    const names = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? `one${i}.test` : i % 3 === 1 ? `two${i}.test` : 'slow.test'));
    const got = await Promise.all(names.map((n) => hello(port, n)));
    got.forEach((g, i) => {
      const n = names[i]!;
      expect(g, n).toEqual({ cn: n.startsWith('one') ? 'one.test' : 'two.test', body: `hi ${n}` });
    });
  });

  it.runIf(front === 'native')('times a handshake waiting for its handler out with client_header_timeout', async () => {
    const t0 = Date.now();
    const r = await hello(port, 'stuck.test');
    expect(r.error).toBeDefined();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await eventually(() => t.errorLog(), /timed out .* while SSL handshaking/)).toMatch(
      /\[info\] .*client timed out \(110: Connection timed out\) while SSL handshaking/);
  });

  it.runIf(front === 'native')('staples ssl_stapling_file\'s response to the conf\'s certificate only, not to one JS chose', async () => {
    const st = await freePort();
    const conf = `worker_processes 1;\nevents {}\nhttp {\n  access_log off;\n  server {\n    listen 127.0.0.1:${st} ssl;
    ssl_certificate ${file('conf.crt')}; ssl_certificate_key ${file('conf.key')};
    ssl_stapling on; ssl_stapling_file ${file('resp.der')};
    ssl_certificate_by_js_block {
      const { ssl } = await import('tresty/ssl');
      if (ssl.server_name(ngx) !== 'one.test') return;
      ssl.clear_certs(ngx);
      ssl.set_cert(ngx, require('node:fs').readFileSync('${file('one.crt')}'));
      ssl.set_priv_key(ngx, require('node:fs').readFileSync('${file('one.key')}'));
    }
    location / { return 200 "ok"; }\n  }\n}\n`;
    const s2 = await startTresty(conf);
    try {
      expect(await stapled(st, 'conf.test')).toEqual(fs.readFileSync(file('resp.der')));
      expect(await stapled(st, 'one.test')).toBeNull();
    } finally {
      await s2.stop();
    }
  });

  it.runIf(front === 'native')('closes a handshake whose client closed while its handler waits, with nginx\'s line', async () => {
    const raw = net.connect(port, '127.0.0.1');
    const s = tls.connect({ socket: raw, servername: 'gone.test', rejectUnauthorized: false });
    s.on('error', () => { /* closed on purpose */ });
    await new Promise((r) => setTimeout(r, 150));
    raw.end();
    expect(await eventually(() => t.errorLog(), /peer closed connection in SSL handshake/)).toMatch(
      /\[info\] .*peer closed connection in SSL handshake while SSL handshaking, client: 127\.0\.0\.1/);
  });
});
