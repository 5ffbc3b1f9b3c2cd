// ngx.req.socket(true) on node:http: the request's socket taken from node's HTTP parser, as node
// does itself for an 'upgrade' request (its server's listeners off the socket, the parser
// unhooked), so the bytes that come next are the handler's. Body bytes node had parsed already
// come first. The parser is let go only once the packet it is parsing is done (the handler may
// run inside it): bytes of that packet beyond the request's body went into node's parser. They
// are taken back from the connection's first packet for its first request with a Content-Length
// (or no) body, when no other packet was read; otherwise they are not seen (docs/api.md).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RawStream } from './types.js';

/** The listeners node:http's server puts on a connection (lib/_http_server.js, Node 20). */
const SERVER_LISTENERS = /^(bound )?(socketOnData|socketOnEnd|socketOnClose|socketOnDrain|socketOnError|socketOnTimeout|onSocketPause|onSocketResume)$/;

/** A hard end for a raw connection whose client never closes after ours (nginx's lingering_time). */
const LINGER_MS = 30_000;

/** Sockets given to a raw request socket: node's parser may still refuse bytes of their last
 *  packet, and nobody answers that (front-refusals.ts). */
export const rawSockets = new WeakSet<Socket>();

type Parser = { _consumed?: boolean; unconsume?(): void; remove?(): void; incoming?: unknown; onIncoming?: unknown; socket?: unknown };

/**
 * The bytes of the connection's first packet `first` past `req` (its head and the body in it),
 * which node's parser took; null when they cannot be told (another packet was read, a chunked
 * body, blank lines before the request line).
 */
function pastRequest(req: IncomingMessage, socket: Socket, first: Buffer): Buffer | null {
  if (socket.bytesRead !== first.length || first[0] === 13 || first[0] === 10) return null;
  if (req.headers['transfer-encoding'] !== undefined) return null;
  const end = first.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = end + 4;
  const length = Number(req.headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(length) || length < 0) return null;
  return first.subarray(Math.min(first.length, head + length));
}

/** Takes `req`'s socket; `sent` counts the bytes written. */
export function takeNodeSocket(req: IncomingMessage, res: ServerResponse, first: Buffer | undefined, sent: (n: number) => void): RawStream {
  const socket = req.socket as Socket & { parser?: Parser | null; _httpMessage?: unknown };
  rawSockets.add(socket);
  const parser = socket.parser ?? null;
  // A request parsed after this one in the same packet is not served.
  if (parser !== null) parser.onIncoming = () => 0;
  // The response object would write or react to the socket's close: it lets go of it.
  if (socket._httpMessage === res) res.detachSocket(socket);
  socket.setTimeout(0);

  const queue: Buffer[] = [];
  let ended = false;
  let gone = false;
  let ready = false;
  let waiter: ((b: Uint8Array | null) => void) | null = null;
  const deliver = (b: Buffer | null): void => {
    const w = waiter;
    if (w !== null) { waiter = null; w(b); return; }
    if (b === null) ended = true;
    else {
      queue.push(b);
      socket.pause(); // the reader takes one piece at a time: TCP holds the client back
    }
  };
  const detach = (): void => {
    for (const ev of ['data', 'end', 'close', 'drain', 'error', 'timeout', 'pause', 'resume']) {
      for (const f of socket.listeners(ev)) if (SERVER_LISTENERS.test((f as { name: string }).name)) socket.removeListener(ev, f as () => void);
    }
    if (parser !== null) {
      if (parser._consumed) parser.unconsume?.();
      parser._consumed = false;
      parser.remove?.(); // out of the server's idle and timeout checks
      parser.incoming = null;
      parser.socket = null;
      if (socket.parser === parser) socket.parser = null;
      (req as { parser?: unknown }).parser = null;
    }
    // What node parsed of the body already, not read by the handler.
    for (let b = req.read() as Buffer | null; b !== null; b = req.read() as Buffer | null) deliver(b);
    const rest = first === undefined ? null : pastRequest(req, socket, first);
    if (rest !== null && rest.length > 0) deliver(rest);
    socket.on('data', (b: Buffer) => deliver(b));
    socket.on('end', () => deliver(null));
    socket.on('close', () => { gone = true; deliver(null); });
    socket.on('error', () => { gone = true; });
    ready = true;
    if (socket.destroyed) { gone = true; ended = true; }
    if (waiter !== null) socket.resume();
    else socket.pause();
  };
  process.nextTick(detach);

  return {
    read(): Promise<Uint8Array | null> {
      const b = queue.shift();
      if (b !== undefined) return Promise.resolve(b);
      if (ended || gone) return Promise.resolve(null);
      if (ready) socket.resume();
      return new Promise((resolve) => {
        waiter = (v) => { socket.pause(); resolve(v); };
      });
    },
    write(b: Uint8Array): Promise<boolean> | boolean {
      if (gone || socket.destroyed || socket.writableEnded) return false;
      sent(b.byteLength);
      if (socket.write(b)) return true;
      return new Promise((resolve) => {
        const done = (): void => { socket.off('drain', done); socket.off('close', done); resolve(!gone && !socket.destroyed); };
        socket.on('drain', done);
        socket.on('close', done);
      });
    },
    close(): void {
      if (socket.destroyed) return;
      const end = (): void => {
        socket.end();
        // The client sees our end; its own closes the socket (or the timer does).
        setTimeout(() => socket.destroy(), LINGER_MS).unref();
        socket.resume(); // read (and drop) until the client closes, as nginx's lingering close
      };
      if (ready) end();
      else process.nextTick(end);
    },
    get gone(): boolean { return gone || socket.destroyed; },
  };
}
