// Client certificates (ssl_verify_client on | optional | optional_no_ca, ssl_client_certificate)
// and the $ssl_* variables, through the real bin/tresty.js on the engine's TLS and (vitest's
// tls:node project) on node:tls, with the same expectations run on nginx 1.22 where it is
// installed: what each variable holds, nginx's two 400 pages and their error-log lines, the
// variables in an access log of an answer the engine wrote itself, and the conf errors.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, httpGet, makePrefix, runTresty, startTresty, type TrestyProcess } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';

const missing = spawnSync('sh', ['-c', 'command -v openssl'], { stdio: 'ignore' }).status === 0 ? null : 'openssl is not installed';
const noNginx = nginxMissing();
const onNodeTls = process.env.TRESTY_TLS_ENGINE === 'node';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-tls-client-'));
const file = (n: string): string => path.join(dir, n);
const ssl = (n: string): Record<string, Buffer> => ({ cert: fs.readFileSync(file(`${n}.crt`)), key: fs.readFileSync(file(`${n}.key`)) });

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

interface Got { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** One HTTPS GET on a new TLS 1.2 connection (nginx 1.22 and tresty agree on its cipher). */
function get(port: number, p: string, opts: tls.ConnectionOptions = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: p, servername: 'localhost', rejectUnauthorized: false, agent: false,
      minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ...opts } as https.RequestOptions, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const VARS = 'p=$ssl_protocol c=$ssl_cipher sn=$ssl_server_name r=$ssl_session_reused v=$ssl_client_verify '
  + 's=$ssl_client_s_dn i=$ssl_client_i_dn ser=$ssl_client_serial f=$ssl_client_fingerprint '
  + 'vs=$ssl_client_v_start ve=$ssl_client_v_end vr=$ssl_client_v_remain';

interface Ports { opt: number; on: number; noCa: number; plain: number; depth: number; crl: number }
const newPorts = async (): Promise<Ports> => ({
  opt: await freePort(), on: await freePort(), noCa: await freePort(), plain: await freePort(), depth: await freePort(), crl: await freePort(),
});

/** The servers, the same text for tresty and nginx: optional, on, optional_no_ca, plain, a chain
 *  one intermediate CA deep with ssl_verify_depth 0, and a CRL that revokes the client's. */
function servers(p: Ports): string {
  const common = `ssl_certificate ${file('s.crt')}; ssl_certificate_key ${file('s.key')}; ssl_protocols TLSv1.2 TLSv1.3;
    ssl_client_certificate ${file('ca.crt')};`;
  return `
  server { listen 127.0.0.1:${p.opt} ssl; ${common} ssl_verify_client optional; access_log logs/opt.log;
    location / { return 200 "${VARS} id=$ssl_session_id cu=$ssl_curve\\n"; }
    location = /cert { return 200 "[$ssl_client_raw_cert]|[$ssl_client_cert]|[$ssl_client_escaped_cert]"; } }
  server { listen 127.0.0.1:${p.on} ssl; ${common} ssl_verify_client on; location / { return 200 "v=$ssl_client_verify\\n"; } }
  server { listen 127.0.0.1:${p.noCa} ssl; ${common} ssl_verify_client optional_no_ca;
    location / { return 200 "v=$ssl_client_verify s=$ssl_client_s_dn\\n"; } }
  server { listen 127.0.0.1:${p.plain}; location / { return 200 "p=[$ssl_protocol] v=[$ssl_client_verify] s=[$ssl_client_s_dn]\\n"; } }
  server { listen 127.0.0.1:${p.depth} ssl; ${common.replace(file('ca.crt'), file('chain.crt'))} ssl_verify_client optional_no_ca;
    ssl_verify_depth 0; location / { return 200 "v=$ssl_client_verify\\n"; } }
  server { listen 127.0.0.1:${p.crl} ssl; ${common} ssl_verify_client optional_no_ca; ssl_crl ${file('ca.crl')};
    location / { return 200 "v=$ssl_client_verify\\n"; } }
`;
}

let serial = '';
let fingerprint = '';
let notBefore = '';
let notAfter = '';

beforeAll(() => {
  if (missing) return;
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '30',
    '-subj', '/C=US/O=Test CA/CN=tresty test ca');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('s.key'), '-out', file('s.crt'), '-days', '30', '-subj', '/CN=localhost');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('c.key'), '-out', file('c.csr'), '-subj', '/C=US/O=Client Org/CN=client one');
  openssl('x509', '-req', '-in', file('c.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('c.crt'), '-days', '10');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('o.key'), '-out', file('o.crt'), '-days', '30', '-subj', '/CN=other self');
  // an intermediate CA and a client it signed; a CRL of the root that revokes c.crt
  fs.writeFileSync(file('ext.cnf'), '[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('i.key'), '-out', file('i.csr'), '-subj', '/CN=tresty intermediate');
  openssl('x509', '-req', '-in', file('i.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('i.crt'),
    '-days', '10', '-extfile', file('ext.cnf'), '-extensions', 'v3_ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('d.key'), '-out', file('d.csr'), '-subj', '/CN=deep client');
  openssl('x509', '-req', '-in', file('d.csr'), '-CA', file('i.crt'), '-CAkey', file('i.key'), '-CAcreateserial', '-out', file('d.crt'), '-days', '10');
  fs.writeFileSync(file('chain.crt'), fs.readFileSync(file('ca.crt'), 'latin1') + fs.readFileSync(file('i.crt'), 'latin1'));
  fs.writeFileSync(file('index.txt'), '');
  fs.writeFileSync(file('crlnumber'), '1000\n');
  fs.writeFileSync(file('crl.cnf'), `[ca]\ndefault_ca=x\n[x]\ndatabase=${file('index.txt')}\ncrlnumber=${file('crlnumber')}\ndefault_md=sha256\ndefault_crl_days=10\n`);
  openssl('ca', '-config', file('crl.cnf'), '-keyfile', file('ca.key'), '-cert', file('ca.crt'), '-revoke', file('c.crt'));
  openssl('ca', '-config', file('crl.cnf'), '-keyfile', file('ca.key'), '-cert', file('ca.crt'), '-gencrl', '-out', file('ca.crl'));
  const x = new crypto.X509Certificate(fs.readFileSync(file('c.crt')));
  serial = openssl('x509', '-in', file('c.crt'), '-noout', '-serial').trim().replace(/^serial=/, '');
  fingerprint = openssl('x509', '-in', file('c.crt'), '-noout', '-fingerprint', '-sha1').trim().replace(/^.*=/, '').replace(/:/g, '').toLowerCase();
  notBefore = x.validFrom;
  notAfter = x.validTo;
});

afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/** The expectations both tresty and nginx meet; `errorLog` reads the server's error log. */
type Up = { ports: Ports; errorLog: () => string; prefix: string };

function shared(name: string, up: () => Promise<Up>): void {
  describe(name, () => {
    let ports: Ports = { opt: 0, on: 0, noCa: 0, plain: 0, depth: 0, crl: 0 };
    let errorLog: () => string = () => '';
    let prefix = '';
    beforeAll(async () => { ({ ports, errorLog, prefix } = await up()); });

    it('without a client certificate: the session variables, client verify NONE and no client_* value', async () => {
      const r = await get(ports.opt, '/');
      expect(r.status).toBe(200);
      expect(r.body).toMatch(/^p=TLSv1\.2 c=ECDHE-RSA-AES(128|256)-GCM-SHA(256|384) sn=localhost r=\. v=NONE s= i= ser= f= vs= ve= vr= id=[0-9a-f]{0,64} cu=/);
    });

    it('with a certificate the CA signed: SUCCESS and the certificate as nginx writes it', async () => {
      const r = await get(ports.opt, '/', ssl('c'));
      expect(r.body).toContain(`v=SUCCESS s=CN=client one,O=Client Org,C=US i=CN=tresty test ca,O=Test CA,C=US ser=${serial} f=${fingerprint} `
        + `vs=${notBefore} ve=${notAfter} vr=9 `);
      const [raw, old, escaped] = (await get(ports.opt, '/cert', ssl('c'))).body.slice(1, -1).split(']|[');
      expect(raw).toBe(fs.readFileSync(file('c.crt'), 'latin1'));
      expect(old).toBe(raw!.replace(/\n$/, '').replace(/\n/g, '\n\t'));
      expect(decodeURIComponent(escaped!)).toBe(raw);
      expect(escaped).toMatch(/^-----BEGIN%20CERTIFICATE-----%0A/);
    });

    it('optional, a certificate no CA signed: 400 "The SSL certificate error" and the reason in the error log', async () => {
      const r = await get(ports.opt, '/', ssl('o'));
      expect(r.status).toBe(400);
      expect(r.body).toContain('<title>400 The SSL certificate error</title>');
      expect(r.headers.connection).toBe('close');
      const re = /\[info\] .*client SSL certificate verify error: \(18:self-signed certificate\) while reading client request headers, client: 127\.0\.0\.1/;
      expect(await eventually(errorLog, re)).toMatch(re);
    });

    it('on: no certificate is 400 "No required SSL certificate was sent"; a good one passes', async () => {
      const r = await get(ports.on, '/');
      expect(r.status).toBe(400);
      expect(r.body).toContain('<center>No required SSL certificate was sent</center>');
      const re = /\[info\] .*client sent no required SSL certificate while reading client request headers/;
      expect(await eventually(errorLog, re)).toMatch(re);
      expect((await get(ports.on, '/', ssl('c'))).body).toBe('v=SUCCESS\n');
      expect((await get(ports.on, '/', ssl('o'))).status).toBe(400);
    });

    it('optional_no_ca: an unknown CA is served, the reason in $ssl_client_verify', async () => {
      expect((await get(ports.noCa, '/', ssl('o'))).body).toBe('v=FAILED:self-signed certificate s=CN=other self\n');
      expect((await get(ports.noCa, '/', ssl('c'))).body).toBe('v=SUCCESS s=CN=client one,O=Client Org,C=US\n');
      expect((await get(ports.noCa, '/')).body).toBe('v=NONE s=\n');
    });

    it('over TLS 1.3 the protocol and suite; a resumed session is "r"', async () => {
      expect((await get(ports.opt, '/', { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' })).body).toMatch(/^p=TLSv1\.3 c=TLS_AES_256_GCM_SHA384 sn=localhost r=\. /);
      const session = await new Promise<Buffer>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: ports.opt, servername: 'localhost', rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
        s.once('session', (b: Buffer) => { resolve(b); s.end(); });
        s.on('error', reject);
      });
      expect((await get(ports.opt, '/', { session })).body).toMatch(/ r=r /);
    });

    it('plain HTTP on the TLS port: nginx\'s 400 page, an [info] line and an access-log line', async () => {
      const raw = await new Promise<string>((resolve) => {
        const c = net.connect(ports.opt, '127.0.0.1', () => c.write('GET /plain HTTP/1.1\r\nHost: x\r\n\r\n'));
        let d = '';
        c.on('data', (x: Buffer) => { d += x.toString('latin1'); });
        c.on('close', () => resolve(d));
        c.on('error', () => resolve(d));
      });
      expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(raw).toMatch(/\r\nConnection: close\r\n/i);
      expect(raw).toContain('<center>The plain HTTP request was sent to HTTPS port</center>');
      const re = /\[info\] .*client sent plain HTTP request to HTTPS port while reading client request headers, client: 127\.0\.0\.1, server: .*request: "GET \/plain HTTP\/1\.1"/;
      expect(await eventually(errorLog, re)).toMatch(re);
      const access = (): string => { try { return fs.readFileSync(path.join(prefix, 'logs/opt.log'), 'utf8'); } catch { return ''; } };
      expect(await eventually(access, /plain/)).toMatch(/"GET \/plain HTTP\/1\.1" 400 \d+ /);
    });

    it('ssl_verify_depth 0: a chain through an intermediate CA fails (even under optional_no_ca); one CA deep passes', async () => {
      const deep = await get(ports.depth, '/', ssl('d'));
      expect(deep.status).toBe(400);
      const re = /client SSL certificate verify error: \(2:unable to get issuer certificate\)/;
      expect(await eventually(errorLog, re)).toMatch(re);
      expect((await get(ports.depth, '/', ssl('c'))).body).toBe('v=SUCCESS\n');
    });

    it('ssl_crl: a revoked certificate is refused with its reason; the CRL is asked for every CA of the chain', async () => {
      expect((await get(ports.crl, '/', ssl('c'))).status).toBe(400);
      const re = /client SSL certificate verify error: \(23:certificate revoked\)/;
      expect(await eventually(errorLog, re)).toMatch(re);
      expect((await get(ports.crl, '/', ssl('d'))).body).toBe('v=FAILED:unable to verify the first certificate\n');
    });

    it('over plain HTTP every $ssl_* is empty', async () => {
      expect((await httpGet(ports.plain, '/')).body).toBe('p=[] v=[] s=[]\n');
    });
  });
}

describe.skipIf(missing !== null)(`ssl_verify_client and $ssl_*${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let t: TrestyProcess;
  let ports: Ports;
  let logged = 0;
  let h2 = 0;
  afterAll(async () => { await t?.stop(); });

  shared(`on tresty (${onNodeTls ? 'node:tls' : "the engine's TLS"})`, async () => {
    ports = await newPorts();
    logged = await freePort();
    h2 = await freePort();
    fs.mkdirSync(file('html'), { recursive: true });
    fs.writeFileSync(file('html/f.txt'), 'file\n');
    t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  log_format tls '$status $ssl_protocol $ssl_server_name $ssl_client_verify $ssl_client_s_dn';
  ${servers(ports)}
  server { listen 127.0.0.1:${logged} ssl; ssl_certificate ${file('s.crt')}; ssl_certificate_key ${file('s.key')};
    ssl_verify_client optional; ssl_client_certificate ${file('ca.crt')};
    access_log logs/tls.log tls; root ${file('html')}; }
  server { listen 127.0.0.1:${h2} ssl http2; ssl_certificate ${file('s.crt')}; ssl_certificate_key ${file('s.key')};
    ssl_verify_client on; ssl_client_certificate ${file('ca.crt')}; location / { return 200 "v=$ssl_client_verify s=$ssl_client_s_dn\\n"; } }
}
`);
    return { ports, errorLog: () => fs.readFileSync(path.join(t.prefix, 'logs/error.log'), 'utf8'), prefix: t.prefix };
  });

  it('$ssl_* in the access log of a static file the engine sent itself, the connection closed after it', async () => {
    expect((await get(logged, '/f.txt', { ...ssl('c'), headers: { connection: 'close' } } as tls.ConnectionOptions)).body).toBe('file\n');
    expect((await get(logged, '/f.txt')).body).toBe('file\n');
    const log = (): string => { try { return fs.readFileSync(path.join(t.prefix, 'logs/tls.log'), 'utf8'); } catch { return ''; } };
    expect((await eventually(log, /NONE/)).trim().split('\n'))
      .toEqual(['200 TLSv1.2 localhost SUCCESS CN=client one,O=Client Org,C=US', '200 TLSv1.2 localhost NONE -']);
  });

  it('over HTTP/2 (node:tls): the client certificate checked and read the same', async () => {
    const h2get = (withCert: boolean): Promise<[number, string]> => new Promise((resolve, reject) => {
      const c = http2.connect(`https://127.0.0.1:${h2}`, { rejectUnauthorized: false, servername: 'localhost', ...(withCert ? ssl('c') : {}) });
      c.on('error', reject);
      const st = c.request({ ':path': '/' });
      let body = '';
      let status = 0;
      st.on('response', (h) => { status = Number(h[':status']); });
      st.on('data', (d: Buffer) => { body += d; });
      st.on('end', () => { c.close(); resolve([status, body]); });
    });
    const [status, page] = await h2get(false);
    expect(status).toBe(400);
    expect(page).toContain('No required SSL certificate was sent');
    expect(await h2get(true)).toEqual([200, 'v=SUCCESS s=CN=client one,O=Client Org,C=US\n']);
  });

  it('$ssl_curve: the group on the engine; node:tls tells a server none (docs/directives.md)', async () => {
    const body = (await get(ports.opt, '/')).body;
    expect(body).toMatch(onNodeTls ? / cu=\n$/ : / cu=X25519\n$/);
  });
});

describe.skipIf(missing !== null || noNginx !== null)(`the same on nginx${noNginx ? ` (skipped: ${noNginx})` : ''}`, () => {
  let n: Nginx;
  afterAll(async () => { await n?.stop(); });
  shared('nginx 1.22', async () => {
    const ports = await newPorts();
    n = await startNginx('location / { return 200; }', servers(ports), { 'logs/.keep': '' });
    return { ports, errorLog: () => n.errorLog(), prefix: n.prefix };
  });
});

describe.skipIf(missing !== null)('conf errors name file:line', () => {
  const check = async (server: string, re: RegExp): Promise<void> => {
    const p = makePrefix(`events {}\nhttp {\n  server {\n    listen 127.0.0.1:1 ssl;\n    ssl_certificate ${file('s.crt')};\n    ssl_certificate_key ${file('s.key')};\n    ${server}\n  }\n}\n`);
    const r = await runTresty(['-p', p, '-t']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(re);
  };
  it('ssl_verify_client without ssl_client_certificate (nginx: the same words)', async () => {
    await check('ssl_verify_client on;', /no ssl_client_certificate for ssl_verify_client in .*nginx\.conf:7/);
  });
  it('a bad mode, a bad depth', async () => {
    await check('ssl_verify_client maybe;', /invalid value "maybe" in .*nginx\.conf:7/);
    await check('ssl_verify_depth x;', /"ssl_verify_depth" directive invalid number in .*nginx\.conf:7/);
  });
  it('a CA file that is missing, or holds no certificate', async () => {
    await check(`ssl_verify_client on;\n    ssl_client_certificate /nonexistent/ca.pem;`, /cannot load ssl_client_certificate "\/nonexistent\/ca\.pem".* in .*nginx\.conf:8/);
    await check(`ssl_verify_client on;\n    ssl_client_certificate ${file('s.key')};`, /ssl_client_certificate ".*s\.key": no certificate or crl found in .*nginx\.conf:8/);
  });
});
