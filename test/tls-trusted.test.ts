// ssl_trusted_certificate next to ssl_client_certificate, as nginx 1.22 does it (observed; the
// same expectations run on nginx where it is installed), on the engine's TLS and (vitest's
// tls:node project) on node:tls: both files' CAs verify client certificates, but only
// ssl_client_certificate's are named to the client in the certificate request.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { bodyOf, opensslMissing as missing, tlsAsk, tlsFiles } from './helpers/tls-files.js';

const noNginx = nginxMissing();
const files = tlsFiles('tls-trusted');
const file = files.file;

beforeAll(() => {
  if (missing) return;
  files.selfSigned('s', 'localhost');
  // a root CA and a client certificate it signed, for each of: named, trusted only, unknown
  for (const [ca, cn, client] of [['named', 'named ca', 'n'], ['trusted', 'trusted only ca', 't'], ['other', 'other ca', 'o']] as const) {
    files.selfSigned(ca, cn);
    files.signed(client, `${client} client`, ca);
  }
});
afterAll(() => { files.remove(); });

const servers = (port: number): string => `
  server { listen 127.0.0.1:${port} ssl; ssl_certificate ${file('s.crt')}; ssl_certificate_key ${file('s.key')};
    ssl_protocols TLSv1.2 TLSv1.3; ssl_verify_client optional_no_ca;
    ssl_client_certificate ${file('named.crt')}; ssl_trusted_certificate ${file('trusted.crt')};
    location / { return 200 "v=$ssl_client_verify s=$ssl_client_s_dn\\n"; } }
`;

async function get(port: number, client: string): Promise<string> {
  return bodyOf(await tlsAsk(port, { servername: 'localhost', cert: fs.readFileSync(file(`${client}.crt`)), key: fs.readFileSync(file(`${client}.key`)) }));
}

/** The CA names the certificate request named, as openssl s_client prints them. */
function caNames(port: number): string {
  const out = execFileSync('sh', ['-c', `echo | timeout 5 openssl s_client -connect 127.0.0.1:${port} -servername localhost 2>/dev/null || true`],
    { encoding: 'latin1' });
  const m = /Acceptable client certificate CA names\n([\s\S]*?)\n(?:Requested|Client Certificate Types|Peer signing|---)/.exec(out);
  return m ? m[1]!.trim() : `(none in: ${out.slice(0, 200)})`;
}

function shared(name: string, up: () => Promise<number>): void {
  describe(name, () => {
    let port = 0;
    beforeAll(async () => { port = await up(); });

    it('only ssl_client_certificate\'s CA is named to the client', () => {
      expect(caNames(port)).toBe('CN = named ca');
    });

    it('a certificate of either CA verifies; one of an unknown CA does not', async () => {
      expect(await get(port, 'n')).toBe('v=SUCCESS s=CN=n client\n');
      expect(await get(port, 't')).toBe('v=SUCCESS s=CN=t client\n');
      expect(await get(port, 'o')).toMatch(/^v=FAILED:unable to (get local issuer certificate|verify the first certificate) s=CN=o client\n$/);
    });
  });
}

describe.skipIf(missing !== null)(`ssl_trusted_certificate${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let t: TrestyProcess;
  afterAll(async () => { await t?.stop(); });
  shared(`on tresty (${process.env.TRESTY_TLS_ENGINE === 'node' ? 'node:tls' : "the engine's TLS"})`, async () => {
    const port = await freePort();
    t = await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;\n${servers(port)}\n}\n`);
    return port;
  });
});

describe.skipIf(missing !== null || noNginx !== null)(`the same on nginx${noNginx ? ` (skipped: ${noNginx})` : ''}`, () => {
  let n: Nginx;
  afterAll(async () => { await n?.stop(); });
  shared('nginx 1.22', async () => {
    const port = await freePort();
    n = await startNginx('location / { return 200; }', servers(port));
    return port;
  });
});
