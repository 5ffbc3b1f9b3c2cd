// tresty/ocsp (lua-resty-core's ngx.ocsp) for certificates ssl_certificate_by_js chooses, on both
// TLS fronts. Real parts: the `openssl ocsp` responders of tls-ocsp.test.ts (helpers/ocsp-fixture),
// a handler that picks a certificate, asks the responder itself over ngx.socket.tcp, validates and
// staples; clients that ask for a staple (status_request) or not. The pure functions run in a
// content handler on tresty and, with the same inputs and expectations, on nginx + lua with
// Debian's lua-resty-core (/usr/share/lua/5.1/ngx/ocsp.lua), where it is installed. The handshake
// handler takes the modules with require() (the worker's own), the content handler with import().
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxMissing, startNginx } from './helpers/nginx.js';
import { ocspFixture } from './helpers/ocsp-fixture.js';
import { freePort, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';
import { opensslMissing as missing, stapled, tlsFiles } from './helpers/tls-files.js';
import { eventually } from './helpers/upstream.js';
import tls from 'node:tls';

const noNginx = nginxMissing();
const fx = ocspFixture('tls-ocsp-api');
const { file, port, described } = fx;

/** A response of the `signer` responder for NAME.crt, made with the openssl CLI. */
function response(name: string, signer: string, out: string): void {
  fx.files.openssl('ocsp', '-issuer', file('ca.crt'), '-cert', file(`${name}.crt`), '-reqout', file(`${out}.req`), '-no_nonce');
  fx.files.openssl('ocsp', '-index', file('index.txt'), '-rsigner', file(`${signer}.crt`), '-rkey', file(`${signer}.key`), '-CA', file('ca.crt'),
    '-reqin', file(`${out}.req`), '-respout', file(`${out}.der`));
}

beforeAll(async () => {
  if (missing) return;
  await fx.setup();
  response('good', 'ca', 'good-resp');
  response('rev', 'ca', 'rev-resp');
  response('good', 'evil', 'evil-resp');
  // signed by the CA itself, without its certificate in the response: the chain's issuer is the signer
  fx.files.openssl('ocsp', '-index', file('index.txt'), '-rsigner', file('ca.crt'), '-rkey', file('ca.key'), '-CA', file('ca.crt'),
    '-reqin', file('good-resp.req'), '-respout', file('bare-resp.der'), '-resp_no_certs');
  fs.writeFileSync(file('garbage.der'), 'garbage!');
  fs.writeFileSync(file('junk.pem'), 'junk');
  // the leaf alone, and the leaf with a CA that did not issue it
  fs.copyFileSync(file('good.crt'), file('leaf-only.pem'));
  fs.writeFileSync(file('wrong-issuer.pem'), fs.readFileSync(file('good.crt'), 'latin1') + fs.readFileSync(file('evil.crt'), 'latin1'));
});
afterAll(async () => {
  await stopAll();
  fx.teardown();
});

// ---- the pure functions, the same calls on tresty and on nginx + lua ----

/** An argument: the DER of a PEM file (cert_pem_to_der; 'junk.pem' gives junk bytes), a file's bytes, or a number. */
type Arg = { der: string } | { bytes: string } | { n: number };
const CALLS: Array<[string, 'get_ocsp_responder_from_der_chain' | 'create_ocsp_request' | 'validate_ocsp_response', Arg[]]> = [
  ['responder', 'get_ocsp_responder_from_der_chain', [{ der: 'good.pem' }]],
  ['responder, no AIA', 'get_ocsp_responder_from_der_chain', [{ der: 'noaia.pem' }]],
  ['responder, junk', 'get_ocsp_responder_from_der_chain', [{ der: 'junk.pem' }]],
  ['responder, leaf only', 'get_ocsp_responder_from_der_chain', [{ der: 'leaf-only.pem' }]],
  ['responder, wrong issuer', 'get_ocsp_responder_from_der_chain', [{ der: 'wrong-issuer.pem' }]],
  ['responder, maxlen 10', 'get_ocsp_responder_from_der_chain', [{ der: 'good.pem' }, { n: 10 }]],
  ['request', 'create_ocsp_request', [{ der: 'good.pem' }]],
  ['request, junk', 'create_ocsp_request', [{ der: 'junk.pem' }]],
  ['request, leaf only', 'create_ocsp_request', [{ der: 'leaf-only.pem' }]],
  ['request, maxlen 10', 'create_ocsp_request', [{ der: 'good.pem' }, { n: 10 }]],
  ['validate good', 'validate_ocsp_response', [{ bytes: 'good-resp.der' }, { der: 'good.pem' }]],
  ['validate revoked', 'validate_ocsp_response', [{ bytes: 'rev-resp.der' }, { der: 'rev.pem' }]],
  ['validate another certificate\'s', 'validate_ocsp_response', [{ bytes: 'other.der' }, { der: 'good.pem' }]],
  ['validate wrong issuer', 'validate_ocsp_response', [{ bytes: 'good-resp.der' }, { der: 'wrong-issuer.pem' }]],
  ['validate garbage', 'validate_ocsp_response', [{ bytes: 'garbage.der' }, { der: 'good.pem' }]],
  ['validate garbage, bad chain', 'validate_ocsp_response', [{ bytes: 'garbage.der' }, { der: 'junk.pem' }]],
  ['validate junk chain', 'validate_ocsp_response', [{ bytes: 'good-resp.der' }, { der: 'junk.pem' }]],
  ['validate leaf only', 'validate_ocsp_response', [{ bytes: 'good-resp.der' }, { der: 'leaf-only.pem' }]],
  ['validate garbage, max_errmsg_len 5', 'validate_ocsp_response', [{ bytes: 'garbage.der' }, { der: 'good.pem' }, { n: 5 }]],
  ['validate unverified signer', 'validate_ocsp_response', [{ bytes: 'evil-resp.der' }, { der: 'good.pem' }]],
  ['validate, signer not in the response', 'validate_ocsp_response', [{ bytes: 'bare-resp.der' }, { der: 'good.pem' }]],
  ['validate, signer not in the response, leaf and another CA', 'validate_ocsp_response', [{ bytes: 'bare-resp.der' }, { der: 'wrong-issuer.pem' }]],
];

/** What every call gives (as each side prints it: bytes as <N bytes>), the responder's port in URLs. */
const expected = (): Record<string, string> => ({
  'responder': `http://127.0.0.1:${port.ca}/ nil`,
  'responder, no AIA': 'nil nil',
  'responder, junk': 'nil d2i_X509_bio() failed',
  'responder, leaf only': 'nil no issuer certificate in chain',
  'responder, wrong issuer': 'nil issuer certificate not next to leaf',
  'responder, maxlen 10': 'http://127 truncated',
  'request': '<69 bytes> nil',
  'request, junk': 'nil d2i_X509_bio() failed',
  'request, leaf only': 'nil no issuer certificate in chain',
  'request, maxlen 10': 'nil output buffer too small: 69 > 10',
  'validate good': 'true nil',
  'validate revoked': 'nil certificate status "revoked" in the OCSP response',
  'validate another certificate\'s': 'nil certificate status not found in the OCSP response',
  'validate wrong issuer': 'nil certificate status not found in the OCSP response',
  'validate garbage': 'nil d2i_OCSP_RESPONSE() failed',
  'validate garbage, bad chain': 'nil d2i_OCSP_RESPONSE() failed',
  'validate junk chain': 'nil d2i_X509_bio() failed',
  'validate leaf only': 'nil no issuer certificate in chain',
  'validate garbage, max_errmsg_len 5': 'nil d2i_O',
  // OpenResty checks the signature, not the signer's chain (OCSP_NOVERIFY)
  'validate unverified signer': 'true nil',
  'validate, signer not in the response': 'true nil',
  'validate, signer not in the response, leaf and another CA': 'nil OCSP_basic_verify() failed',
});

const dir = (): string => `${file('x').slice(0, -1)}`;

function jsCalls(): string {
  const arg = (a: Arg): string => ('der' in a ? `der('${a.der}')` : 'bytes' in a ? `fs.readFileSync(D + '${a.bytes}')` : String(a.n));
  return `const { ocsp } = await import('tresty/ocsp'); const { ssl } = await import('tresty/ssl'); const fs = require('node:fs');
    const D = '${dir()}';
    const der = (n) => ssl.cert_pem_to_der(fs.readFileSync(D + n, 'latin1'))[0] ?? Buffer.from('junk');
    const show = (v) => v === null || v === undefined ? 'nil' : Buffer.isBuffer(v) ? '<' + v.length + ' bytes>' : String(v);
    ${CALLS.map(([label, fn, args]) => `{ const r = ocsp.${fn}(${args.map(arg).join(', ')}); ngx.say(${JSON.stringify(label)} + ': ' + show(r[0]) + ' ' + show(r[1])); }`).join('\n    ')}`;
}

function luaCalls(): string {
  const arg = (a: Arg): string => ('der' in a ? `der("${a.der}")` : 'bytes' in a ? `rd("${a.bytes}")` : String(a.n));
  return `local ocsp = require "ngx.ocsp"
    local ssl = require "ngx.ssl"
    local D = "${dir()}"
    local function rd(n) local f = assert(io.open(D .. n, "rb")) local s = f:read("*a") f:close() return s end
    local function der(n) return ssl.cert_pem_to_der(rd(n)) or "junk" end
    local function show(v) if v == nil then return "nil" end if type(v) == "string" and v:sub(1, 1) == "0" then return "<" .. #v .. " bytes>" end return tostring(v) end
    ${CALLS.map(([label, fn, args]) => `do local a, b = ocsp.${fn}(${args.map(arg).join(', ')}) ngx.say(${JSON.stringify(label)} .. ": " .. show(a) .. " " .. show(b)) end`).join('\n    ')}`;
}

/** The printed lines as label -> result. */
function parsed(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of body.trim().split('\n')) {
    const at = line.indexOf(': ');
    out[line.slice(0, at)] = line.slice(at + 2);
  }
  return out;
}

describe.skipIf(missing !== null)(`tresty/ocsp's pure functions${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('tresty: each call\'s value or OpenResty\'s error string, in a content handler', async () => {
    const p = await freePort();
    await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;
  server { listen 127.0.0.1:${p}; location / { content_by_js_block {\n    ${jsCalls()}\n  } } }\n}\n`);
    const res = await fetch(`http://127.0.0.1:${p}/`);
    expect(parsed(await res.text())).toEqual(expected());
  });

  it.skipIf(noNginx !== null)(`nginx + lua-resty-core's ngx.ocsp: the same${noNginx ? ` (skipped: ${noNginx})` : ''}`, async () => {
    const n = await startNginx(`location / { content_by_lua_block {\n    ${luaCalls()}\n  } }`);
    try {
      const res = await fetch(`http://127.0.0.1:${n.port}/`);
      expect(parsed(await res.text())).toEqual(expected());
    } finally {
      await n.stop();
    }
  });

  it('without the native engine (TRESTY_NO_NATIVE_ENGINE=1): "no OCSP support", as OpenResty built without OCSP', async () => {
    const p = await freePort();
    await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;
  server { listen 127.0.0.1:${p}; location / { content_by_js_block {
    const { ocsp } = require('tresty/ocsp'); const { ssl } = require('tresty/ssl');
    const [der] = ssl.cert_pem_to_der(require('node:fs').readFileSync('${dir()}good.pem', 'latin1'));
    ngx.say(JSON.stringify([ocsp.create_ocsp_request(der), ocsp.validate_ocsp_response(Buffer.from('x'), der), ocsp.get_ocsp_responder_from_der_chain(der)]));
  } } }\n}\n`, { env: { TRESTY_NO_NATIVE_ENGINE: '1' } });
    const body = await (await fetch(`http://127.0.0.1:${p}/`)).text();
    expect(JSON.parse(body)).toEqual([[null, 'no OCSP support'], [null, 'no OCSP support'], [`http://127.0.0.1:${port.ca}/`]]);
  });

  it('set_ocsp_status_resp outside ssl_certificate_by_js throws TRESTY_ERR_API_DISABLED (OpenResty: "no request found")', async () => {
    const { set_ocsp_status_resp } = await import('../src/ocsp/index.js');
    expect(() => set_ocsp_status_resp({}, Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'TRESTY_ERR_API_DISABLED' }));
  });
});

// ---- stapling from ssl_certificate_by_js, on both fronts ----

/** The handler: by SNI name, a certificate, the responder it asks (its AIA's, or the garbage one)
 *  and the chain it validates with; the fetch is a POST over ngx.socket.tcp, as a Lua handler's. */
const handshakeConf = (p: number): string => `worker_processes 1;\nerror_log logs/error.log info;\nevents {}\nhttp {\n  access_log off;
  server { listen 127.0.0.1:${p} ssl; server_name conf.test; ssl_certificate ${file('noaia.pem')}; ssl_certificate_key ${file('noaia.key')};
    ssl_certificate_by_js_block {
      const { ssl } = require('tresty/ssl');   // the worker's modules, without an import() per handshake
      const { ocsp } = require('tresty/ocsp');
      const fs = require('node:fs');
      const D = '${dir()}';
      const name = ssl.server_name(ngx) ?? '';
      const plan = {
        'good.test': ['good', null, 'good.pem'], 'rev.test': ['rev', null, 'rev.pem'],
        'wrong.test': ['good', null, 'wrong-issuer.pem'], 'garbage.test': ['good', 'http://127.0.0.1:${port.bad}/garbage/', 'good.pem'],
        'conf.test': [null, null, 'noaia.pem'],
      }[name];
      if (!plan) return;
      const [cert, url0, chain] = plan;
      if (cert) {
        ssl.clear_certs(ngx);
        ssl.set_cert(ngx, fs.readFileSync(D + cert + '.pem', 'latin1'));
        ssl.set_priv_key(ngx, fs.readFileSync(D + cert + '.key'));
      }
      if (name === 'conf.test') {
        ngx.log(ngx.INFO, 'same modules: ', [require('tresty/ssl') === await import('tresty/ssl'), require('tresty/ocsp') === await import('tresty/ocsp'),
          require('tresty/balancer') === await import('tresty/balancer')].join(), ' |');
        // the conf's certificate stapled with a response read from a file (a cache's, say)
        ngx.log(ngx.INFO, 'ocsp ', name, ': ', JSON.stringify(ocsp.set_ocsp_status_resp(ngx, fs.readFileSync(D + 'good-resp.der'))), ' |');
        return;
      }
      const der = ssl.cert_pem_to_der(fs.readFileSync(D + cert + '.pem', 'latin1'))[0];
      const url = new URL(url0 ?? ocsp.get_ocsp_responder_from_der_chain(der)[0]);
      const [req] = ocsp.create_ocsp_request(der);
      const sock = ngx.socket.tcp({ binary: true });
      await sock.connect(url.hostname, Number(url.port));
      await sock.send(['POST ', url.pathname, ' HTTP/1.0\\r\\nHost: ', url.host, '\\r\\nContent-Type: application/ocsp-request\\r\\nContent-Length: ',
        req.length, '\\r\\n\\r\\n', req]);
      const [raw] = await sock.receive('*a');
      sock.close();
      const resp = raw.subarray(raw.indexOf('\\r\\n\\r\\n') + 4);
      const checked = ocsp.validate_ocsp_response(resp, ssl.cert_pem_to_der(fs.readFileSync(D + chain, 'latin1'))[0]);
      const set = checked[0] ? ocsp.set_ocsp_status_resp(ngx, resp) : null;
      ngx.log(ngx.INFO, 'ocsp ', name, ': ', JSON.stringify([checked, set]), ' |');
    }
    location / { return 200 "ok\\n"; }
  }
}
`;

/** The staple of a handshake with SNI `name` (null: none; asked for when `ask`) and the body of
 *  a request on it, or `error: ...`. */
function handshake(p: number, name: string, ask = true): Promise<{ staple: Buffer | null; body: string } | string> {
  return new Promise((resolve) => {
    let staple: Buffer | null = null;
    let data = '';
    const s = tls.connect({ host: '127.0.0.1', port: p, servername: name, rejectUnauthorized: false, requestOCSP: ask } as tls.ConnectionOptions,
      () => { s.write(`GET / HTTP/1.0\r\nHost: ${name}\r\n\r\n`); });
    s.setTimeout(10_000, () => s.destroy(new Error('timed out')));
    s.on('OCSPResponse', (r: Buffer) => { staple = r; });
    s.on('data', (d: Buffer) => { data += d; });
    s.on('error', (e) => resolve(`error: ${e.message}`));
    s.on('close', () => resolve({ staple, body: data.slice(data.indexOf('\r\n\r\n') + 4) }));
  });
}

/** `openssl s_client -status` with SNI `name`: what it prints. */
function sClient(p: number, name: string): string {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${p}`, '-servername', name, '-status'], { input: '', encoding: 'latin1', timeout: 10_000 });
  return r.stdout;
}

describe.skipIf(missing !== null).each(['native', 'node'] as const)('set_ocsp_status_resp on the %s front', (front) => {
  let t: TrestyProcess;
  let p: number;
  beforeAll(async () => {
    p = await freePort();
    t = await startTresty(handshakeConf(p), { env: front === 'node' ? { TRESTY_TLS_ENGINE: 'node' } : {} });
  });
  /** What the handler logged for its last handshake with SNI `name`. */
  const line = async (name: string): Promise<string> => {
    const re = new RegExp(`ocsp ${name.replace('.', '\\.')}: (.*?) \\|`);
    return [...(await eventually(() => t.errorLog(), re)).matchAll(new RegExp(re, 'g'))].pop()![1]!;
  };

  it(`is served by the ${front === 'native' ? 'native engine' : 'node:tls'}`, async () => {
    expect(await eventually(() => t.errorLog(), /TLS on 127\.0\.0\.1:\d+: /)).toContain(`TLS on 127.0.0.1:${p}: ${front === 'native' ? 'native engine' : 'node:tls'}`);
  });

  it('a handler picks a certificate, asks the responder, validates and staples: the client sees the good response', async () => {
    const h = await handshake(p, 'good.test');
    expect(typeof h === 'string' ? h : h.body).toBe('ok\n');
    if (typeof h === 'string') return;
    expect(h.staple).not.toBeNull();
    expect(described(h.staple!).status).toBe('good');
    expect(await line('good.test')).toBe('[[true],[true]]');
    // and as openssl's client prints it
    const out = sClient(p, 'good.test');
    expect(out).toContain('OCSP Response Status: successful (0x0)');
    expect(out).toMatch(/Cert Status: good/);
  });

  it('a client that does not ask gets no staple, and set_ocsp_status_resp says "no status req"', async () => {
    expect(await handshake(p, 'good.test', false)).toEqual({ staple: null, body: 'ok\n' });
    expect(await eventually(() => t.errorLog(), /\[\[true\],\[true,"no status req"\]\]/)).toMatch(/ocsp good\.test: \[\[true\],\[true,"no status req"\]\]/);
  });

  it('revoked, wrong issuer, garbage: the documented error, no staple, and the handshake succeeds', async () => {
    for (const [name, err] of [['rev.test', 'certificate status \\"revoked\\" in the OCSP response'], ['wrong.test', 'certificate status not found in the OCSP response'],
      ['garbage.test', 'd2i_OCSP_RESPONSE() failed']] as const) {
      expect(await handshake(p, name)).toEqual({ staple: null, body: 'ok\n' });
      expect(await line(name)).toBe(`[[null,"${err}"],null]`);
    }
  });

  it('staples the conf\'s certificate too when the handler sets a response without choosing one', async () => {
    const h = await handshake(p, 'conf.test');
    expect(typeof h === 'string' ? h : h.body).toBe('ok\n');
    if (typeof h === 'string') return;
    expect(h.staple).toEqual(fs.readFileSync(file('good-resp.der')));
    expect(await line('conf.test')).toBe('[true]');
    // require('tresty/ssl') (and ocsp, balancer) is the module import() gives
    expect(t.errorLog()).toContain('same modules: true,true,true |');
  });
});

describe.skipIf(missing !== null || noNginx !== null)(`set_ocsp_status_resp on nginx + lua${noNginx ? ` (skipped: ${noNginx})` : ''}`, () => {
  it('staples to a client that asks; answers true, "no status req" to one that does not (as tresty)', async () => {
    const p = await freePort();
    const n = await startNginx('location / { return 200; }', `server { listen 127.0.0.1:${p} ssl; server_name conf.test;
      ssl_certificate ${file('noaia.pem')}; ssl_certificate_key ${file('noaia.key')};
      ssl_certificate_by_lua_block {
        local ocsp = require "ngx.ocsp"
        local f = assert(io.open("${dir()}good-resp.der", "rb")) local resp = f:read("*a") f:close()
        local ok, err = ocsp.set_ocsp_status_resp(resp)
        ngx.log(ngx.INFO, "ocsp conf.test: ", tostring(ok), " ", tostring(err), " |")
      }
      location / { return 200 "ok\\n"; } }`);
    try {
      const h = await handshake(p, 'conf.test');
      expect(typeof h === 'string' ? h : h.staple).toEqual(fs.readFileSync(file('good-resp.der')));
      expect(n.errorLog()).toContain('ocsp conf.test: true nil |');
      expect(await handshake(p, 'conf.test', false)).toEqual({ staple: null, body: 'ok\n' });
      expect(await eventually(() => n.errorLog(), /true no status req/)).toContain('ocsp conf.test: true no status req |');
    } finally {
      await n.stop();
    }
  });
});
