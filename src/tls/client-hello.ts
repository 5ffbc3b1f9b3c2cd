// The start of a TLS connection, read before the handshake so the server block and its
// certificates are chosen first (as nginx's certificate callback does): the ClientHello's
// server_name (SNI), and what it offers ($ssl_ciphers, $ssl_curves). Only the first record is
// looked at; anything malformed reads as "no name", nothing offered.
import { cipherName } from './cipher-names.js';

export interface Hello {
  /** Every byte read so far (handed to the TLS engine afterwards). */
  readonly bytes: Buffer;
  /** The SNI name, lower-cased, or '' when the client sent none. */
  readonly serverName: string;
  /** The first byte was not a TLS handshake record (plain HTTP to an ssl port?). */
  readonly notTls: boolean;
  /** $ssl_ciphers and $ssl_curves as nginx gives them ('' when unknown). */
  readonly ciphers: string;
  readonly curves: string;
  /** The client asked for an OCSP staple (status_request), which tresty/ocsp answers. */
  readonly statusRequest: boolean;
}

/** Bytes needed for the first record, or 0 when `b` already holds it (or never will). */
function missing(b: Buffer): number {
  if (b.length < 5) return 5 - b.length;
  if (b[0] !== 0x16) return 0;
  const len = b.readUInt16BE(3);
  return Math.max(0, 5 + len - b.length);
}

/** OpenSSL's short names of the named groups (TLS ids) it knows; others print as 0x.... */
const GROUPS: ReadonlyMap<number, string> = new Map([
  [21, 'secp224r1'], [22, 'secp256k1'], [23, 'prime256v1'], [24, 'secp384r1'], [25, 'secp521r1'], [26, 'brainpoolP256r1'],
  [27, 'brainpoolP384r1'], [28, 'brainpoolP512r1'], [29, 'X25519'], [30, 'X448'], [256, 'ffdhe2048'], [257, 'ffdhe3072'],
  [258, 'ffdhe4096'], [259, 'ffdhe6144'], [260, 'ffdhe8192'],
]);

/** `n` two-byte ids from `p`, each named by `name`, ':'-joined (nginx's format). */
function ids(b: Buffer, p: number, n: number, name: (id: number) => string): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(name(b.readUInt16BE(p + 2 * i)));
  return out.join(':');
}

/** The server_name, cipher suites, supported groups and status_request of a ClientHello record. */
export function parseHello(b: Buffer): { serverName: string; ciphers: string; curves: string; statusRequest: boolean } {
  const got = { serverName: '', ciphers: '', curves: '', statusRequest: false };
  try {
    if (b[0] !== 0x16 || b[5] !== 0x01) return got;
    const end = Math.min(b.length, 5 + b.readUInt16BE(3));
    let p = 5 + 4 + 2 + 32; // handshake header, client_version, random
    p += 1 + b[p]!; // session id
    const suites = b.readUInt16BE(p);
    if (p + 2 + suites <= end) got.ciphers = ids(b, p + 2, suites >> 1, cipherName);
    p += 2 + suites;
    p += 1 + b[p]!; // compression methods
    const extEnd = Math.min(end, p + 2 + b.readUInt16BE(p));
    p += 2;
    while (p + 4 <= extEnd) {
      const type = b.readUInt16BE(p);
      const len = b.readUInt16BE(p + 2);
      p += 4;
      if (type === 0 && p + 5 <= extEnd && b[p + 2] === 0) {
        const n = b.readUInt16BE(p + 3);
        if (p + 5 + n <= extEnd) got.serverName = b.toString('latin1', p + 5, p + 5 + n).toLowerCase();
      } else if (type === 5 && p < extEnd && b[p] === 1) {
        got.statusRequest = true; // status_type ocsp, as OpenSSL's SSL_get_tlsext_status_type
      } else if (type === 10 && p + 2 <= extEnd) {
        const n = b.readUInt16BE(p);
        if (p + 2 + n <= extEnd) got.curves = ids(b, p + 2, n >> 1, (id) => GROUPS.get(id) ?? `0x${id.toString(16).padStart(4, '0')}`);
      }
      p += len;
    }
  } catch {
    // A short or odd hello: what was read so far.
  }
  return got;
}

/** The server_name of a ClientHello record, or ''. */
export function serverNameOf(b: Buffer): string {
  return parseHello(b).serverName;
}

/**
 * Reads the first TLS record from a paused socket (within `timeoutMs`) and pauses it again;
 * null when the client went away or was too slow.
 */
export function readHello(socket: import('node:net').Socket, timeoutMs: number): Promise<Hello | null> {
  return new Promise((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (h: Hello | null): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onGone);
      socket.pause();
      resolve(h);
    };
    const onData = (d: Buffer): void => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      if (missing(buf) > 0 && buf.length < 16 * 1024 + 5) return;
      done({ bytes: buf, ...parseHello(buf), notTls: buf[0] !== 0x16 });
    };
    const onGone = (): void => done(null);
    const timer = setTimeout(onGone, timeoutMs);
    socket.on('data', onData);
    socket.once('close', onGone);
    socket.resume();
  });
}
