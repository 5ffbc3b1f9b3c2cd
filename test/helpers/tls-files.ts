// For the TLS tests: certificates made with the openssl CLI in a temp folder (CI installs it; a
// test skips with the reason where it is missing), and one request on a new TLS connection.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

/** Why the openssl CLI cannot be used here, or null. */
export const opensslMissing: string | null =
  spawnSync('sh', ['-c', 'command -v openssl'], { stdio: 'ignore' }).status === 0 ? null : 'openssl is not installed';

export interface TlsFiles {
  file(name: string): string;
  openssl(...args: string[]): string;
  /** NAME.key and a self-signed NAME.crt for CN `cn`. */
  selfSigned(name: string, cn: string): void;
  /** NAME.key and NAME.crt for CN `cn`, signed by CA.crt / CA.key. */
  signed(name: string, cn: string, ca: string): void;
  remove(): void;
}

export function tlsFiles(tag: string): TlsFiles {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tresty-${tag}-`));
  const file = (n: string): string => path.join(dir, n);
  const openssl = (...args: string[]): string => execFileSync('openssl', args, { encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'] });
  return {
    file,
    openssl,
    selfSigned(name, cn) {
      openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`), '-days', '2', '-subj', `/CN=${cn}`);
    },
    signed(name, cn, ca) {
      openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${cn}`);
      openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.crt`), '-CAkey', file(`${ca}.key`), '-CAcreateserial',
        '-out', file(`${name}.crt`), '-days', '2');
    },
    remove() { fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

/** `request` on a new TLS connection to 127.0.0.1:`port`: the whole answer as received, or
 *  `error: CODE` (the message where there is no code). */
export function tlsAsk(port: number, opts: tls.ConnectionOptions, request = 'GET / HTTP/1.0\r\n\r\n'): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => { s.write(request); });
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    s.on('end', () => resolve(got));
    s.on('error', (e: Error & { code?: string }) => resolve(`error: ${e.code ?? e.message}`));
  });
}

/** An answer's body (all of it when there is no head). */
export function bodyOf(raw: string): string {
  const i = raw.indexOf('\r\n\r\n');
  return i < 0 ? raw : raw.slice(i + 4);
}

/** The OCSP response stapled to a handshake with 127.0.0.1:`port` (null: none; asked for when
 *  `ask`), or `error: ...`. */
export function stapled(port: number, ask = true): Promise<Buffer | null | string> {
  return new Promise((resolve) => {
    let got: Buffer | null = null;
    // the event may come after the handshake's callback (TLS 1.3): read it once the socket closed
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, requestOCSP: ask } as tls.ConnectionOptions, () => { s.end(); });
    s.on('close', () => resolve(got));
    s.on('OCSPResponse', (r: Buffer) => { got = r; });
    s.on('error', (e) => resolve(`error: ${e.message}`));
  });
}
