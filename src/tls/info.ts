// What a request may read of its TLS session (nginx's $ssl_* variables), gathered alike from the
// native engine's sessions (native/engine/tls_verify.c te_tls_info's bytes) and from node:tls
// sockets. tls/vars.ts turns it into the variables' values.
import type crypto from 'node:crypto';
import type tls from 'node:tls';
import { trustedChainLength } from './trusted-chain.js';

export interface TlsInfo {
  readonly protocol: string;
  readonly cipher: string;
  /** The SNI name the client sent, '' for none. */
  readonly serverName: string;
  readonly reused: boolean;
  /** Hex, '' when the session has no id (a ticket's). */
  readonly sessionId: string;
  /** The key exchange group, '' where it cannot be known (node:tls tells a server none). */
  readonly curve: string;
  /** $ssl_client_verify: SUCCESS, FAILED:reason or NONE. */
  readonly verify: string;
  /** OpenSSL's number of the verify result (0: good, or no certificate). */
  readonly verifyCode: number;
  /** The client certificate (DER), or null. */
  readonly cert: Buffer | null;
  /** $ssl_ciphers, $ssl_curves: what the ClientHello offered, nginx's format ('' when unknown). */
  readonly ciphers: string;
  readonly curves: string;
}

/** te_tls_info's bytes: ten '\n'-ended text fields, then the certificate's DER. */
export function parseEngineTls(b: Buffer): TlsInfo | null {
  const f: string[] = [];
  let p = 0;
  while (f.length < 10) {
    const nl = b.indexOf(10, p);
    if (nl < 0) return null;
    f.push(b.toString('latin1', p, nl));
    p = nl + 1;
  }
  return {
    protocol: f[0]!, cipher: f[1]!, serverName: f[2]!, reused: f[3] === 'r', sessionId: f[4]!, curve: f[5]!, verify: f[6]!,
    verifyCode: Number(f[7]) || 0, ciphers: f[8]!, curves: f[9]!,
    cert: p < b.length ? Buffer.from(b.subarray(p)) : null,
  };
}

/** A DER element at `p`: [content start, content end], or null. */
function der(b: Buffer, p: number): [number, number] | null {
  if (p + 2 > b.length) return null;
  let len = b[p + 1]!;
  let at = p + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || at + n > b.length) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[at + i]!;
    at += n;
  }
  return at + len <= b.length ? [at, at + len] : null;
}

/** The session id inside an SSL_SESSION's DER (version, ssl version, cipher, then the id). */
function sessionIdOf(session: Buffer | undefined): string {
  if (!session) return '';
  const seq = der(session, 0);
  if (!seq) return '';
  let p = seq[0];
  for (let i = 0; i < 3; i++) {
    const e = der(session, p);
    if (!e) return '';
    p = e[1];
  }
  const id = der(session, p);
  return id && session[p] === 0x04 ? session.toString('hex', id[0], id[1]) : '';
}

/** OpenSSL's numbers of the verify errors Node names by code (nginx's log line gives the number). */
const NUMBERS: Readonly<Record<string, number>> = {
  UNABLE_TO_GET_ISSUER_CERT: 2, UNABLE_TO_GET_CRL: 3, CERT_SIGNATURE_FAILURE: 7, CERT_NOT_YET_VALID: 9,
  CERT_HAS_EXPIRED: 10, CRL_NOT_YET_VALID: 11, CRL_HAS_EXPIRED: 12, DEPTH_ZERO_SELF_SIGNED_CERT: 18,
  SELF_SIGNED_CERT_IN_CHAIN: 19, UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 20, UNABLE_TO_VERIFY_LEAF_SIGNATURE: 21,
  CERT_CHAIN_TOO_LONG: 22, CERT_REVOKED: 23, INVALID_CA: 24, INVALID_PURPOSE: 26, CERT_UNTRUSTED: 27, CERT_REJECTED: 28,
};

/** OpenSSL's number of a verify error Node names by `code` (0 when not known). */
export function verifyNumber(code: string | undefined): number {
  return code === undefined ? 0 : NUMBERS[code] ?? 0;
}

/**
 * The chain's verdict: null when good, else OpenSSL's code name (`code`) and words (`message`).
 * Asked of the handle: `authorized` is set by tls.Server's own connection handler only, and the
 * TLS front makes its sockets itself.
 */
export function verifyError(s: tls.TLSSocket): (Error & { code?: string }) | null {
  const h = (s as unknown as { _handle?: { verifyError?: () => (Error & { code?: string }) | null } })._handle;
  return h?.verifyError?.() ?? null;
}

/** Node's verdicts for a chain whose root it was not given. */
const UNKNOWN_ISSUER = new Set(['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);

const bySocket = new WeakMap<object, TlsInfo>();
interface Handshake { ciphers: string; curves: string; depth: number | null; anchors: readonly crypto.X509Certificate[] | null }
const handshakes = new WeakMap<object, Handshake>();

/** What tls-front.ts knows of a node:tls socket's handshake: what its ClientHello offered (read
 *  before the handshake), and the ssl_verify_depth of the server that asked for a certificate. */
export function markHandshake(s: tls.TLSSocket, hello: { ciphers: string; curves: string }, depth: number | null,
  anchors: readonly crypto.X509Certificate[] | null = null): void {
  handshakes.set(s, { ciphers: hello.ciphers, curves: hello.curves, depth, anchors });
}

/** Certificates in the chain node:tls saw (the leaf, those the client sent, the trusted ones
 *  it completed it with), up to the self-signed root. */
function chainLength(s: tls.TLSSocket): number {
  const seen = new Set<string>();
  for (let c: tls.DetailedPeerCertificate | undefined = s.getPeerCertificate(true); c?.raw !== undefined; c = c.issuerCertificate) {
    if (seen.has(c.fingerprint256)) break;
    seen.add(c.fingerprint256);
  }
  return seen.size;
}

/** A node:tls socket's session as te_tls_info gives the engine's (read once per connection);
 *  null for a plain socket. */
export function socketTls(s: import('node:net').Socket | undefined): TlsInfo | null {
  if (s === undefined || !('encrypted' in s)) return null;
  let t = bySocket.get(s);
  if (t === undefined) bySocket.set(s, (t = readTls(s as tls.TLSSocket)));
  return t;
}

function readTls(s: tls.TLSSocket): TlsInfo {
  const peer = s.getPeerCertificate();
  const cert = peer && peer.raw ? peer.raw : null;
  let verify = 'NONE';
  let verifyCode = 0;
  const hs = handshakes.get(s);
  if (cert !== null) {
    let bad = verifyError(s);
    let length = bad === null ? chainLength(s) : 0;
    // an issuer Node does not know may be one of ssl_trusted_certificate's (trusted-chain.ts)
    if (bad !== null && UNKNOWN_ISSUER.has(String(bad.code)) && hs?.anchors) {
      length = trustedChainLength(s, hs.anchors);
      if (length > 0) bad = null;
    }
    verify = bad === null ? 'SUCCESS' : `FAILED:${bad.message}`;
    verifyCode = bad === null ? 0 : NUMBERS[String(bad.code)] ?? 0;
    // ssl_verify_depth N: node:tls has no limit; OpenSSL's (the engine's, nginx's) stops building
    // the chain after N CAs below the root, which it reports as a missing issuer
    if (bad === null && hs?.depth != null && length > hs.depth + 2) {
      verify = 'FAILED:unable to get issuer certificate';
      verifyCode = 2;
    }
  }
  return {
    protocol: s.getProtocol() ?? '',
    cipher: s.getCipher()?.name ?? '',
    serverName: typeof (s as { servername?: unknown }).servername === 'string' ? (s as { servername: string }).servername : '',
    reused: s.isSessionReused(),
    sessionId: sessionIdOf(s.getSession()),
    curve: '',
    verify,
    verifyCode,
    cert,
    ciphers: hs?.ciphers ?? '',
    curves: hs?.curves ?? '',
  };
}
