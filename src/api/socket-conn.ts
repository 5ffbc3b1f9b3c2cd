// One TCP or unix-socket connection of a cosocket: the node:net socket and the bytes received
// and not read yet. It outlives the cosocket object that opened it when setkeepalive puts it in
// the worker's pool (socket-pool.ts), which is why it is a class of its own.

import net from 'node:net';
import tls from 'node:tls';
import { getSystemErrorMap } from 'node:util';
import { ByteQueue } from './socket-buffer.js';

/** Above this many unread bytes the socket stops reading until a receive wants more. */
const HIGH_WATER = 256 * 1024;

let errMap: Map<number, [string, string]> | null = null;

/**
 * OpenResty's error strings: strerror's text with a lower-case first letter ("connection
 * refused"); libuv's messages are already written that way. Names that do not resolve get
 * nginx's resolver text.
 */
export function errText(e: unknown, host = ''): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOTFOUND') return `${host} could not be resolved (3: Host not found)`;
  if (err.code === 'EAI_AGAIN') return `${host} could not be resolved (2: Server failure)`;
  if (err.code === 'ETIMEDOUT') return 'timeout';
  if (err.code === 'ERR_STREAM_DESTROYED' || err.code === 'ERR_STREAM_WRITE_AFTER_END') return 'closed';
  if (typeof err.errno === 'number') {
    const m = (errMap ??= getSystemErrorMap()).get(err.errno);
    if (m !== undefined) return m[1];
  }
  return String(err.message ?? e).toLowerCase();
}

export class Conn {
  readonly q = new ByteQueue();
  /** The peer ended its side (FIN). */
  eof = false;
  /** A socket error, as OpenResty's text. */
  error: string | null = null;
  /** A receive returned `error`: the kernel gives an error once, so a later send meets "broken pipe". */
  errorSeen = false;
  closed = false;
  /** How many times the pool handed this connection out again. */
  reused = 0;
  /** Set while the connection idles in the pool: any sign of life from the peer drops it. */
  onIdleEvent: (() => void) | null = null;
  /** Called once when the socket is gone (the pool counts its connections). */
  onGone: (() => void) | null = null;
  /** TLS is on (sslhandshake succeeded): a pooled one comes back ready. */
  tls = false;
  /** The latest TLS session ticket the server sent, for sslhandshake's reused_session. */
  session: SslSession | null = null;
  #wake: (() => void) | null = null;

  constructor(readonly s: net.Socket, readonly key: string) {
    s.setNoDelay(true); // request/response protocols (redis, memcached) wait on every small write
    s.on('data', (d: Buffer) => {
      this.q.push(d);
      if (this.onIdleEvent !== null) return this.onIdleEvent();
      if (this.q.length >= HIGH_WATER) s.pause();
      this.#signal();
    });
    s.on('end', () => { this.eof = true; this.onIdleEvent?.(); this.#signal(); });
    s.on('error', (e) => { this.error ??= errText(e); this.onIdleEvent?.(); this.#signal(); });
    s.on('close', () => {
      this.closed = true;
      this.onIdleEvent?.();
      this.#signal();
      const g = this.onGone;
      this.onGone = null;
      g?.();
    });
  }

  /** Removes this object's listeners: the socket is handed to a TLS wrapper. */
  detach(): void {
    for (const ev of ['data', 'end', 'error', 'close']) this.s.removeAllListeners(ev);
    this.s.on('error', () => {}); // the TLS socket reports it
  }

  /** The peer will send nothing more (or cannot). */
  get ended(): boolean { return this.eof || this.error !== null || this.closed; }

  #signal(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** Resolves true when something arrives (data, end, error), false after `ms` of silence. */
  wait(ms: number): Promise<boolean> {
    if (this.s.isPaused()) this.s.resume();
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.#wake = null; resolve(false); }, ms);
      this.#wake = () => { clearTimeout(t); resolve(true); };
    });
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.#signal();
    this.s.destroy();
  }

  /** Writes `data`; resolves null once the kernel has it, or the error (the socket is then closed). */
  write(data: Buffer, ms: number): Promise<string | null> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.destroy(); resolve('timeout'); }, ms);
      this.s.write(data, (e) => {
        clearTimeout(t);
        if (e) { this.destroy(); resolve(this.error ?? errText(e)); } else resolve(null);
      });
    });
  }
}

export type Target = { path: string } | { host: string; port: number };

/** Opens a connection; resolves the Conn or OpenResty's error text. */
export function openConn(target: Target, key: string, ms: number): Promise<Conn | string> {
  return new Promise((resolve) => {
    // allowHalfOpen: the peer's FIN ends reading only; sends still go, as nginx's (node would end
    // our side too).
    const s = 'path' in target ? net.connect({ path: target.path, allowHalfOpen: true }) : net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    const onErr = (e: unknown): void => {
      clearTimeout(t);
      s.destroy();
      resolve(errText(e, 'host' in target ? target.host : ''));
    };
    const t = setTimeout(() => { s.removeListener('error', onErr); s.on('error', () => {}); s.destroy(); resolve('timeout'); }, ms);
    s.once('error', onErr);
    s.once('connect', () => {
      clearTimeout(t);
      s.removeListener('error', onErr);
      resolve(new Conn(s, key));
    });
  });
}

/** What sslhandshake returns: pass it back as reused_session to resume the TLS session. */
export class SslSession {
  /** @internal */ data: Buffer | null = null;
}

/** OpenSSL's numbers for the verify errors Node names, for OpenResty's "18: self-signed certificate". */
const VERIFY_CODES: Record<string, number> = {
  UNABLE_TO_GET_ISSUER_CERT: 2, CERT_NOT_YET_VALID: 9, CERT_HAS_EXPIRED: 10, DEPTH_ZERO_SELF_SIGNED_CERT: 18,
  SELF_SIGNED_CERT_IN_CHAIN: 19, UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 20, UNABLE_TO_VERIFY_LEAF_SIGNATURE: 21,
};

function tlsErrText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'certificate host mismatch';
  const n = err.code !== undefined ? VERIFY_CODES[err.code] : undefined;
  if (n !== undefined) return `${n}: ${err.message}`;
  if (typeof err.errno === 'number' || err.code === 'ECONNRESET') return errText(e);
  return 'handshake failed';
}

export interface TlsOptions { servername?: string; verify: boolean; session?: Buffer }

/**
 * Runs a TLS handshake over `c`'s socket; resolves the Conn that reads and writes through TLS
 * (it takes over `c`'s place in the pool's count) or OpenResty's error text.
 */
export function upgradeTls(c: Conn, o: TlsOptions, ms: number): Promise<Conn | string> {
  c.detach();
  return new Promise((resolve) => {
    const ts = tls.connect({
      socket: c.s,
      servername: o.servername !== undefined && net.isIP(o.servername) === 0 ? o.servername : undefined,
      rejectUnauthorized: o.verify,
      session: o.session,
      // Without a server name OpenResty verifies the chain only, not a host name.
      ...(o.servername === undefined ? { checkServerIdentity: () => undefined } : { checkServerIdentity: (_h: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(o.servername!, cert) }),
    });
    const sess = new SslSession();
    ts.on('session', (b: Buffer) => { sess.data = b; });
    const onErr = (e: unknown): void => {
      clearTimeout(t);
      ts.destroy();
      c.s.destroy();
      resolve(tlsErrText(e));
    };
    const t = setTimeout(() => { ts.removeListener('error', onErr); ts.on('error', () => {}); ts.destroy(); c.s.destroy(); resolve('timeout'); }, ms);
    ts.once('error', onErr);
    ts.once('secureConnect', () => {
      clearTimeout(t);
      ts.removeListener('error', onErr);
      const n = new Conn(ts, c.key);
      n.reused = c.reused;
      n.tls = true;
      n.session = sess;
      n.onGone = c.onGone;
      c.onGone = null;
      resolve(n);
    });
  });
}
