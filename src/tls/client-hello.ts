// The start of a TLS connection, read before the handshake so the server block and its
// certificates are chosen first (as nginx's certificate callback does): the ClientHello's
// server_name (SNI). Only the first record is looked at; anything malformed reads as "no name".

export interface Hello {
  /** Every byte read so far (handed to the TLS engine afterwards). */
  readonly bytes: Buffer;
  /** The SNI name, lower-cased, or '' when the client sent none. */
  readonly serverName: string;
  /** The first byte was not a TLS handshake record (plain HTTP to an ssl port?). */
  readonly notTls: boolean;
}

/** Bytes needed for the first record, or 0 when `b` already holds it (or never will). */
function missing(b: Buffer): number {
  if (b.length < 5) return 5 - b.length;
  if (b[0] !== 0x16) return 0;
  const len = b.readUInt16BE(3);
  return Math.max(0, 5 + len - b.length);
}

/** The server_name of a ClientHello record, or ''. */
export function serverNameOf(b: Buffer): string {
  try {
    if (b[0] !== 0x16 || b[5] !== 0x01) return '';
    const end = Math.min(b.length, 5 + b.readUInt16BE(3));
    let p = 5 + 4 + 2 + 32; // handshake header, client_version, random
    p += 1 + b[p]!; // session id
    p += 2 + b.readUInt16BE(p); // cipher suites
    p += 1 + b[p]!; // compression methods
    const extEnd = Math.min(end, p + 2 + b.readUInt16BE(p));
    p += 2;
    while (p + 4 <= extEnd) {
      const type = b.readUInt16BE(p);
      const len = b.readUInt16BE(p + 2);
      p += 4;
      if (type === 0 && p + 5 <= extEnd && b[p + 2] === 0) {
        const n = b.readUInt16BE(p + 3);
        if (p + 5 + n > extEnd) return '';
        return b.toString('latin1', p + 5, p + 5 + n).toLowerCase();
      }
      p += len;
    }
  } catch {
    // A short or odd hello: no name.
  }
  return '';
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
      done({ bytes: buf, serverName: serverNameOf(buf), notTls: buf[0] !== 0x16 });
    };
    const onGone = (): void => done(null);
    const timer = setTimeout(onGone, timeoutMs);
    socket.on('data', onData);
    socket.once('close', onGone);
    socket.resume();
  });
}
