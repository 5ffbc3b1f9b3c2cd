// ssl_password_file: a server whose ssl_certificate_key is encrypted is served (the second line of
// the file opens it; the first is tried and fails, as on nginx) on each TLS front (node:tls both
// ways, the native engine) and on nginx 1.22 + lua; `-t`: a missing file is nginx's open() error
// at the directive's line, a file without the passphrase nginx's "cannot load certificate key".
// Before, tresty refused ssl_password_file as an unknown directive.
import fs from 'node:fs';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { nginxConfError, nginxMissing } from './helpers/nginx.js';
import { makePrefix, runTresty } from './helpers/server.js';
import { opensslMissing, tlsFiles } from './helpers/tls-files.js';
import { ALL_TLS, onNginxTls, onTlsFronts } from './helpers/tls-fronts.js';

const files = tlsFiles('tlspw');
if (opensslMissing === null) {
  files.selfSigned('c', 'h.test');
  files.openssl('pkey', '-in', files.file('c.key'), '-aes256', '-passout', 'pass:secret2', '-out', files.file('enc.key'));
  fs.writeFileSync(files.file('pw'), 'wrong\r\nsecret2\n');
  fs.writeFileSync(files.file('bad'), 'wrong\n');
}
afterAll(() => { files.remove(); });

const SERVER = `ssl_certificate ${files.file('c.crt')}; ssl_certificate_key ${files.file('enc.key')};
    ssl_password_file ${files.file('pw')};
    location / { return 200 "tls\\n"; }`;

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'h.test', rejectUnauthorized: false }, () => {
      s.write('GET / HTTP/1.1\r\nHost: h.test\r\nConnection: close\r\n\r\n');
    });
    let data = '';
    s.on('data', (d: Buffer) => { data += d.toString('latin1'); });
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
}

function checks(port: () => number): void {
  it('the encrypted key opens with the file\'s second passphrase: served', async () => {
    expect(await get(port())).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\ntls\n$/);
  });
}

onTlsFronts('ssl_password_file', ALL_TLS, opensslMissing, SERVER, checks);
onNginxTls('ssl_password_file', opensslMissing, SERVER, checks);

async function trestyTest(body: string): Promise<string | null> {
  const p = makePrefix(`events {}\nhttp {\n  server {\n    listen 127.0.0.1:1 ssl;\n    ${body}\n  }\n}\n`);
  const r = await runTresty(['-p', p, '-t']);
  if (r.code === 0) return null;
  return (r.stdout + r.stderr).split('\n').find((l) => l.includes('[emerg]')) ?? r.stderr;
}

describe.skipIf(opensslMissing !== null)('ssl_password_file, -t', () => {
  const cert = `ssl_certificate ${files.file('c.crt')}; ssl_certificate_key ${files.file('enc.key')};`;
  it.skipIf(nginxMissing() !== null)('a missing file: nginx\'s open() error, at the directive\'s line', async () => {
    const body = `${cert}\n    ssl_password_file /nonexistent/pw;`;
    const ours = await trestyTest(body);
    expect(ours).toMatch(/^tresty: \[emerg\] open\(\) "\/nonexistent\/pw" failed \(2: No such file or directory\) in \S*nginx\.conf:6$/);
    expect(nginxConfError(`listen 127.0.0.1:2 ssl; ${body}`)).toMatch(/^nginx: \[emerg\] open\(\) "\/nonexistent\/pw" failed \(2: No such file or directory\) in /);
  });
  it.skipIf(nginxMissing() !== null)('no passphrase of the file opens the key: nginx\'s "cannot load certificate key"', async () => {
    const body = `${cert}\n    ssl_password_file ${files.file('bad')};`;
    const want = `cannot load certificate key "${files.file('enc.key')}": PEM_read_bio_PrivateKey() failed (SSL: error:1C800064:Provider routines::bad decrypt`;
    expect((await trestyTest(body))?.startsWith(`tresty: [emerg] ${want}`)).toBe(true);
    expect(nginxConfError(`listen 127.0.0.1:2 ssl; ${body}`)?.startsWith(`nginx: [emerg] ${want}`)).toBe(true);
  });
});
