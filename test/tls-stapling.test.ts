// ssl_stapling on with ssl_stapling_file on the engine's TLS, as nginx 1.22 does it (observed; the
// same expectations run on nginx where it is installed): the file's DER OCSP response is stapled,
// byte for byte, to a handshake that asks for one (status_request), and to no other; with
// ssl_stapling off nothing is. A file that cannot be read fails the start naming its line.
// node:tls does not staple (docs/directives-gateway.md), so this file runs on the engine only.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, makePrefix, runTresty, startTresty, type TrestyProcess } from './helpers/server.js';
import { opensslMissing as missing, stapled, tlsFiles } from './helpers/tls-files.js';

const noNginx = nginxMissing();
const files = tlsFiles('tls-stapling');
const file = files.file;

beforeAll(() => {
  if (missing) return;
  files.selfSigned('ca', 'ca');
  files.signed('s', 'localhost', 'ca');
  fs.writeFileSync(file('index.txt'), '');
  files.openssl('ocsp', '-issuer', file('ca.crt'), '-cert', file('s.crt'), '-reqout', file('req.der'), '-no_nonce');
  files.openssl('ocsp', '-index', file('index.txt'), '-rsigner', file('ca.crt'), '-rkey', file('ca.key'), '-CA', file('ca.crt'),
    '-reqin', file('req.der'), '-respout', file('resp.der'), '-ndays', '1');
});
afterAll(() => { files.remove(); });

const servers = (on: number, off: number): string => {
  const pair = `ssl_certificate ${file('s.crt')}; ssl_certificate_key ${file('s.key')}; ssl_stapling_file ${file('resp.der')};`;
  return `
  server { listen 127.0.0.1:${on} ssl; ${pair} ssl_stapling on; location / { return 200 "on\\n"; } }
  server { listen 127.0.0.1:${off} ssl; ${pair} location / { return 200 "off\\n"; } }
`;
};

function shared(name: string, up: () => Promise<{ on: number; off: number }>): void {
  describe(name, () => {
    let p = { on: 0, off: 0 };
    beforeAll(async () => { p = await up(); });

    it('ssl_stapling on: the file\'s response, to a client that asks', async () => {
      expect(await stapled(p.on)).toEqual(fs.readFileSync(file('resp.der')));
      expect(await stapled(p.on, false)).toBeNull();
    });

    it('ssl_stapling off: none', async () => {
      expect(await stapled(p.off)).toBeNull();
    });
  });
}

const onNodeTls = process.env.TRESTY_TLS_ENGINE === 'node';
describe.skipIf(missing !== null || onNodeTls)(`ssl_stapling_file${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let t: TrestyProcess;
  afterAll(async () => { await t?.stop(); });
  shared("on tresty (the engine's TLS)", async () => {
    const on = await freePort();
    const off = await freePort();
    t = await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;\n${servers(on, off)}\n}\n`);
    return { on, off };
  });

  it('a file that cannot be read fails the start naming its line', async () => {
    const conf = `events {}\nhttp {\n  server { listen 127.0.0.1:${await freePort()} ssl; ssl_certificate ${file('s.crt')};
    ssl_certificate_key ${file('s.key')}; ssl_stapling on;\n    ssl_stapling_file ${file('none.der')}; }\n}\n`;
    const r = await runTresty(['-p', makePrefix(conf)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/none\.der.* in .*nginx\.conf:5/);
  });
});

describe.skipIf(missing !== null || noNginx !== null || onNodeTls)(`the same on nginx${noNginx ? ` (skipped: ${noNginx})` : ''}`, () => {
  let n: Nginx;
  afterAll(async () => { await n?.stop(); });
  shared('nginx 1.22', async () => {
    const on = await freePort();
    const off = await freePort();
    n = await startNginx('location / { return 200; }', servers(on, off));
    return { on, off };
  });
});
