// The OCSP world of the stapling tests (tls-ocsp, tls-ocsp-api): a CA with real `openssl ocsp`
// responders (its own, and one signing with a key the CA never certified), leaves whose AIA names
// the CA's responder (good, revoked, other), one without AIA, and a node:http responder answering
// 500 (/500/), a good response for `other` (/other/) or garbage (anything else).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { freePort } from './server.js';
import { tlsFiles, type TlsFiles } from './tls-files.js';

export interface OcspFixture {
  readonly files: TlsFiles;
  readonly file: (name: string) => string;
  /** The ports of the CA's responder, the rogue one, the node:http one and a dead one. */
  readonly port: { ca: number; evil: number; bad: number; dead: number };
  /** Makes the files and starts the responders (call in beforeAll, with the openssl CLI there). */
  setup(): Promise<void>;
  teardown(): void;
  /** The certificate status and thisUpdate of a DER OCSP response, as openssl prints them. */
  described(der: Buffer): { status: string; thisUpdate: string };
}

export function ocspFixture(tag: string): OcspFixture {
  const files = tlsFiles(tag);
  const file = files.file;
  const children: ChildProcess[] = [];
  let bad: http.Server | null = null;
  const port = { ca: 0, evil: 0, bad: 0, dead: 0 };

  /** A leaf NAME.crt (serial `serial`) whose AIA names the CA's responder, and NAME.pem: it then the CA. */
  const leaf = (name: string, serial: string): void => {
    fs.writeFileSync(file(`${name}.ext`), `authorityInfoAccess=OCSP;URI:http://127.0.0.1:${port.ca}/\nsubjectAltName=DNS:localhost\n`);
    files.openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', '/CN=localhost');
    files.openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-set_serial', serial,
      '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.crt`));
    fs.writeFileSync(file(`${name}.pem`), fs.readFileSync(file(`${name}.crt`), 'latin1') + fs.readFileSync(file('ca.crt'), 'latin1'));
  };

  /** An `openssl ocsp` responder on port `p`, once it listens (it says so; a probe connection would
   *  wedge it: it serves one connection at a time and waits for that one's request). */
  const responder = (p: number, signer: string): Promise<void> => {
    const c = spawn('openssl', ['ocsp', '-index', file('index.txt'), '-port', String(p), '-rsigner', file(`${signer}.crt`),
      '-rkey', file(`${signer}.key`), '-CA', file('ca.crt')], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(c);
    return new Promise((resolve, reject) => {
      let said = '';
      const hear = (d: Buffer): void => { said += String(d); if (said.includes('waiting for OCSP client connections')) resolve(); };
      c.stdout!.on('data', hear);
      c.stderr!.on('data', hear);
      c.once('exit', () => reject(new Error(`openssl ocsp exited: ${said}`)));
    });
  };

  return {
    files, file, port,
    async setup() {
      for (const k of Object.keys(port) as Array<keyof typeof port>) port[k] = await freePort();
      files.selfSigned('ca', 'Test OCSP CA');
      files.selfSigned('evil', 'Rogue responder'); // a responder the CA never certified (its own name: found as the signer)
      leaf('good', '0x1001');
      leaf('rev', '0x1002');
      leaf('other', '0x1003');
      files.signed('noaia', 'localhost', 'ca'); // no AIA: nothing to ask
      fs.writeFileSync(file('noaia.pem'), fs.readFileSync(file('noaia.crt'), 'latin1') + fs.readFileSync(file('ca.crt'), 'latin1'));
      // index.txt: status, expiry, revocation time, serial, file, subject
      const row = (st: string, serial: string, revoked = ''): string => `${st}\t391231235959Z\t${revoked}\t${serial}\tunknown\t/CN=localhost\n`;
      fs.writeFileSync(file('index.txt'), row('V', '1001') + row('R', '1002', '240101000000Z') + row('V', '1003'));
      fs.writeFileSync(file('index.txt.attr'), 'unique_subject = no\n'); // the three leaves share their subject
      // a good response for `other` (what the 200-but-wrong responder sends)
      files.openssl('ocsp', '-issuer', file('ca.crt'), '-cert', file('other.crt'), '-reqout', file('other.req'), '-no_nonce');
      files.openssl('ocsp', '-index', file('index.txt'), '-rsigner', file('ca.crt'), '-rkey', file('ca.key'), '-CA', file('ca.crt'),
        '-reqin', file('other.req'), '-respout', file('other.der'));
      await responder(port.ca, 'ca');
      await responder(port.evil, 'evil');
      const otherDer = fs.readFileSync(file('other.der'));
      bad = http.createServer((req, res) => {
        if (req.url!.startsWith('/500/')) { res.writeHead(500); res.end('no'); return; }
        res.writeHead(200, { 'Content-Type': 'application/ocsp-response' });
        res.end(req.url!.startsWith('/other/') ? otherDer : 'garbage!');
      });
      await new Promise<void>((r) => bad!.listen(port.bad, '127.0.0.1', r));
    },
    teardown() {
      for (const c of children) c.kill();
      bad?.close();
      files.remove();
    },
    described(der) {
      const f = file(`resp-${Date.now()}-${Math.random()}.der`);
      fs.writeFileSync(f, der);
      const text = files.openssl('ocsp', '-respin', f, '-resp_text', '-noverify');
      return { status: /Cert Status: (\w+)/.exec(text)?.[1] ?? '', thisUpdate: /This Update: (.+)/.exec(text)?.[1] ?? '' };
    },
  };
}
