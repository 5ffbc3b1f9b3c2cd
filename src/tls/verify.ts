// ssl_verify_client, checked per request as nginx does, against the server the Host header chose
// (the handshake asked for a certificate as the SNI name's server said): a bad certificate is
// 495, a missing one under `on` 496 (both answered 400 with their own page), and a Host other
// than the SNI name a server matched is 421 when the Host's server verifies clients. The engine
// checks a listener with one server itself (native/engine/tls_verify.c te_tls_refusal). Plain
// HTTP on a TLS port is read as HTTP and its request refused the same way (497).
import type net from 'node:net';
import type tls from 'node:tls';
import type { SslVerifyClient } from '../config/types.js';
import { socketTls, type TlsInfo } from './info.js';

const SNI = Symbol('tresty.negotiatedName');
const PLAIN = Symbol('tresty.plainOnTls');

/** Marks a socket of a TLS port on which plain HTTP came: its request is answered 497. */
export function markPlain(socket: net.Socket): void {
  (socket as unknown as Record<symbol, boolean>)[PLAIN] = true;
}

function isPlain(socket: net.Socket | undefined): boolean {
  return socket !== undefined && (socket as unknown as Record<symbol, boolean | undefined>)[PLAIN] === true;
}

/** Marks a TLS socket whose SNI name chose a server by its name (not as the default). */
export function markNegotiated(socket: tls.TLSSocket, name: string): void {
  (socket as unknown as Record<symbol, string>)[SNI] = name;
}

/** The SNI name a server matched at the handshake of this socket, or ''. */
export function negotiatedName(socket: net.Socket | undefined): string {
  return socket === undefined ? '' : (socket as unknown as Record<symbol, string | undefined>)[SNI] ?? '';
}

/** What optional_no_ca lets through: a CA it does not know (nginx's list). */
const NO_CA = new Set([18, 19, 20, 21, 27]);

export interface CertRefusal {
  readonly status: 421 | 495 | 496 | 497;
  /** The error-log line's reason (nginx's words). */
  readonly reason: string;
}

/** A refusal as nginx's error-log line words it (495's reason from the session's verdict). */
export function refusalOf(status: 495 | 496 | 497, t: TlsInfo | null): CertRefusal {
  if (status === 497) return { status, reason: 'client sent plain HTTP request to HTTPS port' };
  if (status === 496) return { status, reason: 'client sent no required SSL certificate' };
  return { status, reason: `client SSL certificate verify error: (${t?.verifyCode ?? 0}:${t?.verify.replace(/^FAILED:/, '') ?? ''})` };
}

/**
 * nginx's checks of a request on a TLS session `t` whose Host chose a server verifying with
 * `mode`; `misdirected`: the Host is not the name the handshake's server matched.
 */
export function requestRefusal(mode: SslVerifyClient | null, t: TlsInfo | null, misdirected: boolean): CertRefusal | null {
  if (mode === null || t === null) return null;
  if (misdirected) return { status: 421, reason: 'client attempted to request the server name different from the one that was negotiated' };
  if (t.cert !== null && t.verify !== 'SUCCESS' && (mode !== 'optional_no_ca' || !NO_CA.has(t.verifyCode))) return refusalOf(495, t);
  if (mode === 'on' && t.cert === null) return refusalOf(496, t);
  return null;
}

/** The refusal a request on this node:tls socket gets (`mode`: its Host server's), or null. */
export function certRefusal(socket: net.Socket | undefined, mode: SslVerifyClient | null, misdirected: boolean): CertRefusal | null {
  if (isPlain(socket)) return refusalOf(497, null);
  if (mode === null || socket === undefined || !('encrypted' in socket)) return null;
  return requestRefusal(mode, socketTls(socket), misdirected);
}
