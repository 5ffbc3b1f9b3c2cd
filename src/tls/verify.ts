// ssl_verify_client on node:tls: the mode of the server whose context did the handshake is put
// on its socket, and each request is checked against the session's verdict as nginx does (the
// engine's check is native/engine/tls_verify.c te_tls_refusal): a bad certificate is 495, a
// missing one under `on` 496 (both answered 400 with their own page). Plain HTTP on a TLS port
// is read as HTTP and its request refused the same way (497), so it is logged as nginx logs it.
import type net from 'node:net';
import type tls from 'node:tls';
import type { SslVerifyClient } from '../config/types.js';
import { socketTls, type TlsInfo, verifyError } from './info.js';

const MODE = Symbol('tresty.verifyClient');
const PLAIN = Symbol('tresty.plainOnTls');

/** Marks a socket of a TLS port on which plain HTTP came: its request is answered 497. */
export function markPlain(socket: net.Socket): void {
  (socket as unknown as Record<symbol, boolean>)[PLAIN] = true;
}

function isPlain(socket: net.Socket | undefined): boolean {
  return socket !== undefined && (socket as unknown as Record<symbol, boolean | undefined>)[PLAIN] === true;
}

/** Marks a TLS socket made with a context that asked for a client certificate. */
export function markVerify(socket: tls.TLSSocket, mode: SslVerifyClient | null): void {
  if (mode !== null) (socket as unknown as Record<symbol, SslVerifyClient>)[MODE] = mode;
}

/** What optional_no_ca lets through: a CA it does not know (nginx's list). */
const NO_CA = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);

export interface CertRefusal {
  readonly status: 495 | 496 | 497;
  /** The error-log line's reason (nginx's words). */
  readonly reason: string;
}

/** A refusal as nginx's error-log line words it (495's reason from the session's verdict). */
export function refusalOf(status: 495 | 496 | 497, t: TlsInfo | null): CertRefusal {
  if (status === 497) return { status, reason: 'client sent plain HTTP request to HTTPS port' };
  if (status === 496) return { status, reason: 'client sent no required SSL certificate' };
  return { status, reason: `client SSL certificate verify error: (${t?.verifyCode ?? 0}:${t?.verify.replace(/^FAILED:/, '') ?? ''})` };
}

/** The refusal a request on this socket gets for its client certificate, or null. */
export function certRefusal(socket: net.Socket | undefined): CertRefusal | null {
  if (isPlain(socket)) return refusalOf(497, null);
  const mode = socket ? (socket as unknown as Record<symbol, SslVerifyClient | undefined>)[MODE] : undefined;
  if (mode === undefined) return null;
  const s = socket as tls.TLSSocket;
  const peer = s.getPeerCertificate();
  const has = peer !== null && peer.raw !== undefined;
  // Node reports a missing certificate as an error too: only a sent one has a verdict.
  const bad = has ? verifyError(s) : null;
  if (bad !== null && (mode !== 'optional_no_ca' || !NO_CA.has(String(bad.code)))) return refusalOf(495, socketTls(s));
  if (mode === 'on' && !has) return refusalOf(496, null);
  return null;
}
