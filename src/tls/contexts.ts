// TLS settings of the servers, as Node's TLS stack (OpenSSL) takes them: one context per server
// with all its certificate pairs (an RSA and an ECDSA pair side by side: OpenSSL picks the one
// the client can use), protocols, ciphers, session timeout, and session ticket keys that every
// worker derives alike (from the server's private key), so a ticket one worker issued is good in
// all of them.

import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import type { ServerConf, SslConf } from '../config/types.js';
import { ConfError } from '../errors.js';
import { nodeConfOptions } from './conf-commands.js';
import { pemCertificates } from './trusted-chain.js';

/** A certificate chosen per handshake by ssl_certificate_by_js. */
export interface CertChoice {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

/** What ssl_certificate_by_js decided for one handshake: a pair (null keeps the conf's
 *  certificates) and the OCSP response to staple (tresty/ocsp's set_ocsp_status_resp, or null). */
export interface CertAnswer {
  readonly pair: CertChoice | null;
  readonly ocsp: Buffer | null;
}

/** Runs a server's ssl_certificate_by_js for one handshake (`statusRequest`: the client asked
 *  for a staple; `peer`: `, client: A, server: LISTEN` for its log lines, as much as is known). */
export type CertHook = (server: ServerConf, servername: string, statusRequest: boolean, peer?: string) => Promise<CertAnswer>;

const VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
type Version = (typeof VERSIONS)[number];

function read(file: string, what: string, ssl: SslConf, ref = ssl.ref): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const msg = `cannot load ${what} "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    if (ref) throw new ConfError('TRESTY_ERR_CONF_OPEN', msg, ref.file, ref.line);
    throw new ConfError('TRESTY_ERR_CONF_OPEN', msg, '(conf)', 0);
  }
}

/** ssl_protocols as node:tls's range, lowest to highest listed. */
function protocolRange(ssl: SslConf): tls.SecureContextOptions {
  const known = ssl.protocols.filter((p): p is Version => (VERSIONS as readonly string[]).includes(p))
    .sort((a, b) => VERSIONS.indexOf(a) - VERSIONS.indexOf(b));
  return known.length > 0 ? { minVersion: known[0], maxVersion: known[known.length - 1] } : {};
}

/** Why node:tls serves a server whose ssl_conf_command it cannot express (its refusal says so). */
const NODE_TLS = 'node:tls serves this server: a listen with http2, http_engine node or TRESTY_TLS_ENGINE=node; the native engine applies every command';

/** The protocol range of ssl_protocols, then ssl_conf_command's MinProtocol / MaxProtocol. */
function versions(ssl: SslConf): tls.SecureContextOptions {
  const { minVersion, maxVersion } = nodeConfOptions(ssl.confCommands, protocolRange(ssl), 'ssl_conf_command', NODE_TLS);
  return { ...(minVersion ? { minVersion } : {}), ...(maxVersion ? { maxVersion } : {}) };
}

/** The options shared by every context of a server: protocols, ciphers, curves, sessions, and
 *  ssl_conf_command's over them. */
function baseOptions(ssl: SslConf): tls.SecureContextOptions {
  return nodeConfOptions(ssl.confCommands, {
    ...protocolRange(ssl),
    ciphers: ssl.ciphers,
    honorCipherOrder: ssl.preferServerCiphers,
    ecdhCurve: ssl.ecdhCurve,
    sessionTimeout: Math.max(1, Math.round(ssl.sessionTimeout / 1000)),
    sessionIdContext: 'tresty',
    ...(ssl.sessionTickets ? {} : { secureOptions: crypto.constants.SSL_OP_NO_TICKET }),
    ...(ssl.dhparam !== null ? { dhparam: read(ssl.dhparam, 'DH parameters', ssl) } : {}),
    ...verifyOptions(ssl),
  }, 'ssl_conf_command', NODE_TLS);
}

/** ssl_verify_client's CAs and CRL. Only ssl_client_certificate's CAs are given to node:tls (it
 *  names every CA it trusts to the client): a chain to ssl_trusted_certificate's is checked after
 *  the handshake (trusted-chain.ts); with ssl_crl they are given too, for the revocation check. */
function verifyOptions(ssl: SslConf): tls.SecureContextOptions {
  const [ca, trusted, crl] = verifyFiles(ssl);
  const cas = [ca, crl ? trusted : null].filter((b): b is Buffer => b !== null);
  // an empty list, not none: without `ca` Node would trust its bundled public roots
  return { ...(ssl.verifyClient !== null ? { ca: cas } : {}), ...(crl ? { crl } : {}) };
}

const anchorsOf = new WeakMap<SslConf, crypto.X509Certificate[] | null>();

/** The CAs a node:tls client chain may end in beyond Node's own (ssl_trusted_certificate's, and
 *  ssl_client_certificate's above them), or null when Node was given them all. */
export function trustedAnchors(ssl: SslConf): crypto.X509Certificate[] | null {
  let a = anchorsOf.get(ssl);
  if (a === undefined) {
    const [ca, trusted, crl] = verifyFiles(ssl);
    a = trusted === null || crl !== null ? null : pemCertificates(`${ca?.toString('latin1') ?? ''}\n${trusted.toString('latin1')}`);
    anchorsOf.set(ssl, a);
  }
  return a;
}

/** ssl_verify_client's files, read now: [CA, trusted, CRL] (null where not set or verify is off). */
function verifyFiles(ssl: SslConf): [Buffer | null, Buffer | null, Buffer | null] {
  if (ssl.verifyClient === null) return [null, null, null];
  const ref = ssl.verifyRef ?? ssl.ref;
  const r = (f: string | null, what: string, marker: RegExp): Buffer | null => {
    if (f === null) return null;
    const b = read(f, what, ssl, ref);
    // OpenSSL would take a file without one as an empty list (node:tls does): nginx refuses it
    if (!marker.test(b.toString('latin1')) && ref) {
      throw new ConfError('TRESTY_ERR_CONF_VALUE', `cannot use the ${what} "${f}": no certificate or crl found`, ref.file, ref.line);
    }
    return b;
  };
  const cert = /-----BEGIN (TRUSTED )?CERTIFICATE-----/;
  return [r(ssl.clientCertificate, 'ssl_client_certificate', cert), r(ssl.trustedCertificate, 'ssl_trusted_certificate', cert),
    r(ssl.crl, 'ssl_crl', /-----BEGIN X509 CRL-----/)];
}

/**
 * A certificate key as both TLS paths take it: with ssl_password_file, decrypted here by the first
 * passphrase that opens it (nginx tries each in turn), so that neither OpenSSL asks for one.
 */
function readKey(file: string, ssl: SslConf): Buffer {
  const key = read(file, 'certificate key', ssl);
  if (ssl.passwords === null) return key;
  let last: Error | null = null;
  // an empty file: nginx tries the empty passphrase
  for (const passphrase of ssl.passwords.length > 0 ? ssl.passwords : ['']) {
    try {
      return Buffer.from(crypto.createPrivateKey({ key, format: 'pem', passphrase }).export({ type: 'pkcs8', format: 'pem' }));
    } catch (e) {
      last = e as Error;
    }
  }
  const ref = ssl.ref;
  const msg = `cannot load certificate key "${file}": PEM_read_bio_PrivateKey() failed (SSL: ${last?.message ?? 'no passphrase'})`;
  throw new ConfError('TRESTY_ERR_CONF_VALUE', msg, ref?.file ?? '(conf)', ref?.line ?? 0);
}

/** A node:tls server's options as its contexts will have them (ssl_conf_command's mapped): throws
 *  the conf error of a command node:tls cannot express, for a front to check at start. */
export function nodeServerOptions(ssl: SslConf): tls.SecureContextOptions {
  return { ...baseOptions(ssl), ...versions(ssl) };
}

/** The conf's certificate pairs of a server, read now (a missing file is a conf error). */
export function serverOptions(ssl: SslConf): tls.SecureContextOptions {
  const cert = ssl.certificates.map((p) => read(p.certificate, 'certificate', ssl));
  const key = ssl.certificates.map((p) => readKey(p.key, ssl));
  const tickets = ticketKeys(ssl);
  return { ...baseOptions(ssl), ...(cert.length > 0 ? { cert, key } : {}), ...(tickets ? { ticketKeys: tickets } : {}) };
}

/**
 * Checks that every ssl server's certificates load and make a context (for `tresty -t`). As
 * nginx 1.22, only the default server of a TLS address must have a certificate (unless it rejects
 * handshakes): another one without any is served with the default's (`defaults`: those servers).
 */
export function checkCertificates(servers: readonly ServerConf[], defaults: ReadonlySet<ServerConf>, onNode?: ReadonlySet<ServerConf>): void {
  for (const s of servers) {
    if (!s.listen.some((l) => l.ssl) && !defaults.has(s)) continue;
    if (s.ssl.certificates.length === 0 && s.ssl.certificateHandler === null) {
      // a server that refuses every handshake (ssl_reject_handshake) needs none, as on nginx
      if (!defaults.has(s) || s.ssl.rejectHandshake) continue;
      const l = s.listen.find((x) => x.ssl) ?? s.listen[0]!;
      throw new ConfError('TRESTY_ERR_CONF_VALUE', 'no "ssl_certificate" is defined for the "listen ... ssl" directive', l.ref.file, l.ref.line);
    }
    try {
      // ssl_conf_command is node:tls's to map only where node:tls serves (`onNode`; all when not said)
      tls.createSecureContext(serverOptions(!onNode || onNode.has(s) ? s.ssl : { ...s.ssl, confCommands: [] }));
    } catch (e) {
      if (e instanceof ConfError) throw e;
      const ref = s.ssl.ref ?? s.ref;
      throw new ConfError('TRESTY_ERR_CONF_VALUE', `cannot use the certificates: ${(e as Error).message}`, ref.file, ref.line);
    }
  }
}

/**
 * Session ticket keys (48 bytes) derived from the first private key of the server: the same in
 * every worker without the master handing anything over, and secret as long as the key is.
 */
function ticketKeys(ssl: SslConf, bytes = 48): Buffer | undefined {
  if (!ssl.sessionTickets || ssl.certificates.length === 0) return undefined;
  const key = read(ssl.certificates[0]!.key, 'certificate key', ssl);
  return Buffer.from(crypto.hkdfSync('sha256', key, 'tresty', 'tls session ticket keys', bytes));
}

/** What the native engine's context of a server needs (native/engine/tls_napi.c tlsContext). */
export interface EngineTls {
  readonly certs: Buffer[];
  readonly keys: Buffer[];
  /** [minVersion, maxVersion, preferServerCiphers, sessionCache, sessionTimeoutS, tickets, rejectHandshake] */
  readonly options: number[];
  readonly dh: Buffer | null;
  /** 80 bytes, the same in every worker */
  readonly ticketKeys: Buffer | null;
  /** [mode, depth, CA, trusted, CRL] for ssl_verify_client, or null */
  readonly verify: [number, number, Buffer | null, Buffer | null, Buffer | null] | null;
  /** ssl_stapling on with ssl_stapling_file: the DER OCSP response to staple, or null */
  readonly ocsp: Buffer | null;
}

const VERIFY_MODES = { on: 1, optional: 2, optional_no_ca: 3 } as const;

/** A server's TLS settings for the engine, its files read as for node:tls (same errors). */
export function engineTls(ssl: SslConf): EngineTls {
  const known = ssl.protocols.filter((p): p is Version => (VERSIONS as readonly string[]).includes(p))
    .map((p) => 0x301 + VERSIONS.indexOf(p)).sort((a, b) => a - b);
  return {
    certs: ssl.certificates.map((p) => read(p.certificate, 'certificate', ssl)),
    keys: ssl.certificates.map((p) => readKey(p.key, ssl)),
    options: [known[0] ?? 0, known[known.length - 1] ?? 0, ssl.preferServerCiphers ? 1 : 0, ssl.sessionCache,
      Math.max(1, Math.round(ssl.sessionTimeout / 1000)), ssl.sessionTickets ? 1 : 0, ssl.rejectHandshake ? 1 : 0],
    dh: ssl.dhparam !== null ? read(ssl.dhparam, 'DH parameters', ssl) : null,
    // OpenSSL's own ticket keys: 16 bytes of name, 32 of HMAC, 32 of AES (Node's callback takes 48).
    ticketKeys: ticketKeys(ssl, 80) ?? null,
    verify: ssl.verifyClient === null ? null : [VERIFY_MODES[ssl.verifyClient], ssl.verifyDepth ?? 1, ...verifyFiles(ssl)],
    ocsp: ssl.stapling && ssl.staplingFile ? read(ssl.staplingFile.path, 'OCSP response', ssl, ssl.staplingFile.ref) : null,
  };
}

/** Contexts per server (built once) and per certificate a handler chose (kept, LRU). */
export class ContextCache {
  private readonly byServer = new Map<ServerConf, Map<ServerConf, tls.SecureContext>>();
  private readonly chosen = new Map<string, tls.SecureContext>();

  /** `s`'s context with the protocol range of `dflt`, the address's default server: as on nginx
   *  and the engine, the SNI switch keeps the default's protocols (its ciphers are the server's). */
  server(s: ServerConf, dflt: ServerConf = s): tls.SecureContext {
    let byDefault = this.byServer.get(s);
    if (byDefault === undefined) this.byServer.set(s, (byDefault = new Map()));
    let c = byDefault.get(dflt);
    if (c === undefined) {
      c = tls.createSecureContext({ ...serverOptions(s.ssl), ...versions(dflt.ssl) });
      byDefault.set(dflt, c);
    }
    return c;
  }

  /** A context for a certificate ssl_certificate_by_js gave (building one costs ~1 ms: keep it). */
  choice(s: ServerConf, choice: CertChoice, dflt: ServerConf = s): tls.SecureContext {
    const id = crypto.createHash('sha1').update(choice.cert).update('\0').update(choice.key).update('\0')
      .update(dflt.ssl.protocols.join(' ')).digest('hex');
    let c = this.chosen.get(id);
    if (c !== undefined) {
      this.chosen.delete(id);
      this.chosen.set(id, c);
      return c;
    }
    c = tls.createSecureContext({ ...baseOptions(s.ssl), ...versions(dflt.ssl), cert: choice.cert, key: choice.key, ticketKeys: ticketKeys(s.ssl) });
    if (this.chosen.size >= 1000) this.chosen.delete(this.chosen.keys().next().value!);
    this.chosen.set(id, c);
    return c;
  }
}

/** ssl_session_cache: session ids kept per worker, oldest dropped first, for ssl_session_timeout. */
export class SessionCache {
  private readonly m = new Map<string, { data: Buffer; until: number }>();
  constructor(private readonly max: number, private readonly timeout: number) {}

  attach(server: import('node:events').EventEmitter): void {
    server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
      if (this.m.size >= this.max) this.m.delete(this.m.keys().next().value!);
      this.m.set(id.toString('hex'), { data, until: Date.now() + this.timeout });
      done();
    });
    server.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => {
      const k = id.toString('hex');
      const e = this.m.get(k);
      if (e === undefined || e.until < Date.now()) {
        this.m.delete(k);
        done(null, null);
        return;
      }
      done(null, e.data);
    });
  }
}
