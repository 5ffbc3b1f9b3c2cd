// HTTP/0.9 on node's fronts: nginx answers `GET /\r\n` (no version) with the body only and closes;
// node's parser takes that line as a request line and waits for headers that never come. So the
// first line of a connection is read before node's parser gets it (sniffFirstLine, for the plain
// front and the node:tls path), and an HTTP/0.9 one is given to node as HTTP/1.0 with
// the socket marked, so that the exchange leaves out the status line and the headers.
import type { Socket } from 'node:net';

/** An HTTP/0.9 request line: a method, a target, no version. */
const HTTP09 = /^([A-Za-z]+) +([^ \r\n]+) *\r?\n/;
/** Bytes that can still become an HTTP/0.9 line: letters, then maybe spaces and a target, no third word. */
const MAYBE09 = /^(?:[A-Za-z]+(?: +[^ \r\n]*)? *\r?)?$/;

export interface Line09 { readonly method: string; readonly target: string }

/** What the first bytes of a connection are: an HTTP/0.9 request, anything else, or not known yet. */
export function firstLine(head: Buffer): 'wait' | 'other' | Line09 {
  const nl = head.indexOf(10);
  const text = head.toString('latin1', 0, nl < 0 ? Math.min(head.length, 64) : nl + 1);
  if (nl >= 0) {
    const m = HTTP09.exec(text);
    return m ? { method: m[1]!, target: m[2]! } : 'other';
  }
  // Undecided only while the bytes can still become an HTTP/0.9 line; node judges the rest.
  if (!MAYBE09.test(text)) return 'other';
  return head.length > 8192 ? 'other' : 'wait';
}

/** Sockets whose request was HTTP/0.9: the exchange answers with the body only, then closes. */
const http09 = new WeakSet<object>();

export function isHttp09(socket: object): boolean {
  return http09.has(socket);
}

/** The HTTP/0.9 GET as node's parser takes it (HTTP/1.0: no keep-alive); the socket is marked. */
export function as10(socket: object, line: Line09): Buffer {
  http09.add(socket);
  return Buffer.from(`GET ${line.target} HTTP/1.0\r\n\r\n`, 'latin1');
}

/** What a connection's first bytes came to (sniffFirstLine). */
export interface FirstLineHooks {
  /** A whole first line (or bytes that cannot be HTTP/0.9): what it is and the bytes read. */
  line(kind: 'other' | Line09, head: Buffer): void;
  /** Silent for the timeout (`timedOut`), or gone before a whole line: the socket is then destroyed. */
  stopped?(head: Buffer | null, timedOut: boolean): void;
  /** The watch ended (a line, a stop or the close). */
  done?(): void;
}

/**
 * Reads a connection's first line before node's parser has the socket (plain and TLS fronts): a
 * client silent for `timeoutMs`, or gone before a whole line, is closed with no answer (nginx's
 * request-line timeout). Most first packets hold the whole line: this decides on the first read.
 */
export function sniffFirstLine(socket: Socket, timeoutMs: number, hooks: FirstLineHooks): void {
  let head: Buffer | null = null;
  const done = (): void => {
    socket.setTimeout(0);
    socket.off('data', onData);
    socket.off('timeout', onTimeout);
    socket.off('end', onEnd);
    socket.off('close', done);
    hooks.done?.();
  };
  const onData = (d: Buffer): void => {
    head = head === null ? d : Buffer.concat([head, d]);
    const kind = firstLine(head);
    if (kind === 'wait') return;
    done();
    hooks.line(kind, head);
  };
  const stop = (timedOut: boolean): void => {
    hooks.stopped?.(head, timedOut);
    done();
    socket.destroy();
  };
  const onTimeout = (): void => stop(true);
  const onEnd = (): void => stop(false);
  socket.setTimeout(timeoutMs);
  socket.on('timeout', onTimeout);
  socket.on('end', onEnd);
  socket.on('close', done);
  socket.on('data', onData);
}
