// ssl_ocsp, ssl_ocsp_responder, ssl_ocsp_cache: taken with nginx's checks of their values (`-t`
// against nginx -t, same words); a server with them and no client certificates asked for is
// served on each TLS front and on nginx 1.22 + lua (there they do nothing either). `ssl_ocsp on |
// leaf` with ssl_verify_client on / optional is refused (tresty makes no OCSP check of client
// certificates: serving without it would let revoked ones in). Before, all three were unknown.
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { nginxConfError, nginxMissing } from './helpers/nginx.js';
import { makePrefix, runTresty } from './helpers/server.js';
import { opensslMissing, tlsFiles } from './helpers/tls-files.js';
import { ALL_TLS, onNginxTls, onTlsFronts } from './helpers/tls-fronts.js';

const files = tlsFiles('tlsocspc');
if (opensslMissing === null) files.selfSigned('c', 'h.test');
afterAll(() => { files.remove(); });
const CERT = `ssl_certificate ${files.file('c.crt')}; ssl_certificate_key ${files.file('c.key')};`;
const VERIFY = `ssl_verify_client on; ssl_client_certificate ${files.file('c.crt')};`;

const SERVER = `${CERT}
    ssl_ocsp on; ssl_ocsp_responder http://127.0.0.1:1/; ssl_ocsp_cache shared:OCSP:1m;
    location / { return 200 "tls\\n"; }`;

function checks(port: () => number): void {
  it('served (no client certificate is asked for)', async () => {
    const proto = await new Promise<string | null>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: port(), servername: 'h.test', rejectUnauthorized: false }, () => {
        resolve(s.getProtocol());
        s.destroy();
      });
      s.on('error', reject);
    });
    expect(proto).toMatch(/^TLSv1\.[23]$/);
  });
}

onTlsFronts('ssl_ocsp without ssl_verify_client', ALL_TLS, opensslMissing, SERVER, checks);
onNginxTls('ssl_ocsp without ssl_verify_client', opensslMissing, SERVER, checks);

/** `tresty -t` on one TLS server with `body` (line 6); its [emerg] text without the prefix, or null. */
async function trestyTest(body: string): Promise<string | null> {
  const p = makePrefix(`events {}\nhttp {\n  server {\n    listen 127.0.0.1:1 ssl;\n    ${CERT}\n    ${body}\n  }\n}\n`);
  const r = await runTresty(['-p', p, '-t']);
  if (r.code === 0) return null;
  return ((r.stdout + r.stderr).split('\n').find((l) => l.includes('[emerg]')) ?? r.stderr).replace(/^tresty: \[emerg\] /, '');
}

describe.skipIf(opensslMissing !== null || nginxMissing() !== null)('-t, against nginx -t', () => {
  const CASES: [string, string | null][] = [
    ['ssl_ocsp on;', null],
    ['ssl_ocsp leaf;', null],
    ['ssl_ocsp off;', null],
    ['ssl_ocsp foo;', 'invalid value "foo"'],
    ['ssl_ocsp_cache off;', null],
    ['ssl_ocsp_cache shared:O:32k;', null],
    ['ssl_ocsp_cache shared:O:31k;', 'OCSP cache "shared:O:31k" is too small'],
    ['ssl_ocsp_cache builtin;', 'invalid OCSP cache "builtin"'],
    ['ssl_ocsp_cache shared:O;', 'invalid OCSP cache "shared:O"'],
    ['ssl_ocsp_cache shared::1m;', 'invalid OCSP cache "shared::1m"'],
    ['ssl_ocsp_responder foo;', null],
    ['ssl_ocsp on; ssl_verify_client optional_no_ca;', '"ssl_ocsp" is incompatible with "ssl_verify_client optional_no_ca"'],
  ];
  for (const [body, err] of CASES) {
    it(body, async () => {
      const ours = await trestyTest(body);
      const theirs = nginxConfError(`listen 127.0.0.1:2 ssl; ${CERT} ${body}`);
      if (err === null) {
        expect(ours).toBeNull();
        expect(theirs).toBeNull();
        return;
      }
      expect(ours).toMatch(new RegExp(`^${err.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} in \\S*nginx\\.conf:6$`));
      expect(theirs).toContain(`[emerg] ${err}`);
    });
  }

  it('ssl_ocsp on | leaf with ssl_verify_client on / optional: refused, naming the way (nginx takes it)', async () => {
    for (const body of [`ssl_ocsp on; ${VERIFY}`, `ssl_ocsp leaf; ssl_verify_client optional; ssl_client_certificate ${files.file('c.crt')};`]) {
      expect(await trestyTest(body)).toMatch(/^"ssl_ocsp" directive: tresty does not check client certificates over OCSP \(on either engine\); check their revocation with ssl_crl in \S*nginx\.conf:6$/);
      expect(nginxConfError(`listen 127.0.0.1:2 ssl; ${CERT} ${body}`)).toBeNull();
    }
  });
});
