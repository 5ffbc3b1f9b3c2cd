// proxy_ssl_crl and proxy_ssl_password_file (both were 'unknown directive'): an upstream whose
// certificate a CRL revokes is refused with nginx's line (`upstream SSL certificate verify error:
// (23:certificate revoked) while SSL handshaking to upstream`, 502); an encrypted client key is
// opened by the first passphrase of the file that fits, as nginx tries them. On both engines.
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confErrorOf } from './helpers/conf-load.js';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';
import { opensslMissing, tlsFiles } from './helpers/tls-files.js';
import { eventually } from './helpers/upstream.js';

const certs = tlsFiles('pcrl');
const file = certs.file;
let upstream: https.Server;
let up = 0;

/** A CA; the upstream's certificate and another one it signed; a CRL revoking each; an encrypted client key. */
function makeFiles(): void {
  const o = certs.openssl;
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '30', '-subj', '/CN=pcrl ca');
  certs.signed('s', 'localhost', 'ca');
  certs.signed('other', 'other', 'ca');
  o('genrsa', '-aes256', '-passout', 'pass:secret', '-out', file('c.key'), '2048');
  o('req', '-new', '-key', file('c.key'), '-passin', 'pass:secret', '-out', file('c.csr'), '-subj', '/CN=proxy client');
  o('x509', '-req', '-in', file('c.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('c.crt'), '-days', '2');
  for (const [name, revoke] of [['revoked', 's'], ['good', 'other']] as const) {
    fs.writeFileSync(file(`${name}.idx`), '');
    fs.writeFileSync(file(`${name}.num`), '1000\n');
    fs.writeFileSync(file(`${name}.cnf`), `[ca]\ndefault_ca=x\n[x]\ndatabase=${file(`${name}.idx`)}\ncrlnumber=${file(`${name}.num`)}\ndefault_md=sha256\ndefault_crl_days=10\n`);
    o('ca', '-config', file(`${name}.cnf`), '-keyfile', file('ca.key'), '-cert', file('ca.crt'), '-revoke', file(`${revoke}.crt`));
    o('ca', '-config', file(`${name}.cnf`), '-keyfile', file('ca.key'), '-cert', file('ca.crt'), '-gencrl', '-out', file(`${name}.crl`));
  }
  fs.writeFileSync(file('pass.txt'), 'wrong\n\nsecret\n');
}

const locations = (): string => `
    # each location its own handshake: a resumed session is not verified again (nginx alike)
    proxy_ssl_session_reuse off;
    proxy_ssl_verify on; proxy_ssl_trusted_certificate ${file('ca.crt')}; proxy_ssl_name localhost;
    location /ok { proxy_pass https://127.0.0.1:${up}; proxy_ssl_crl ${file('good.crl')}; }
    location /revoked { proxy_pass https://127.0.0.1:${up}; proxy_ssl_crl ${file('revoked.crl')}; }
    location /client { proxy_pass https://127.0.0.1:${up}; proxy_ssl_certificate ${file('c.crt')};
      proxy_ssl_certificate_key ${file('c.key')}; proxy_ssl_password_file ${file('pass.txt')}; }`;

describe.skipIf(opensslMissing !== null)(`proxy_ssl_crl and proxy_ssl_password_file${opensslMissing ? ` (skipped: ${opensslMissing})` : ''}`, () => {
  beforeAll(async () => {
    makeFiles();
    upstream = https.createServer({ key: fs.readFileSync(file('s.key')), cert: fs.readFileSync(file('s.crt')), ca: fs.readFileSync(file('ca.crt')), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(`up ${peer.subject?.CN ?? '-'}\n`);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    up = (upstream.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => upstream?.close(r));
    certs.remove();
  });

  it('a password file that cannot be read is nginx\'s conf error', () => {
    expect(confErrorOf(`events {} http { server { location / { proxy_ssl_password_file ${file('nope.txt')}; } } }`).message)
      .toMatch(/^open\(\) ".*nope\.txt" failed \(2: No such file or directory\) in /);
  });

  for (const e of ENGINES) {
    describe.skipIf(e.skip !== null)(titled(e, 'proxied over TLS'), () => {
      let t: TrestyProcess;
      let port = 0;
      beforeAll(async () => {
        port = await freePort();
        t = await startTresty(`worker_processes 1;\nerror_log logs/error.log info;\nevents {}\nhttp {\n  server {\n    listen 127.0.0.1:${port};\n${locations()}\n  }\n}\n`, { env: e.env });
      });
      afterAll(async () => { await t?.stop(); });

      it('a CRL that revokes another certificate lets the upstream through; one that revokes its own is a 502 with nginx\'s line', async () => {
        expect((await httpGet(port, '/ok')).body).toBe('up -\n');
        expect((await httpGet(port, '/revoked')).status).toBe(502);
        expect(await eventually(() => t.errorLog(), /verify error/)).toMatch(/\[error\] [^\n]*upstream SSL certificate verify error: \(23:certificate revoked\) while SSL handshaking to upstream/);
      });

      it('the encrypted client key opens with the file\'s second passphrase', async () => {
        expect((await httpGet(port, '/client')).body).toBe('up proxy client\n');
      });
    });
  }
});
