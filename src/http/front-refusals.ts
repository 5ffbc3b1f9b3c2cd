// What node:http's front logs and answers where nginx would and node's own code would not: a
// request its parser refused (its `clientError`, read back by node-refusal.ts), a client that times
// out or closes before a whole first line, one that closes a keep-alive connection between requests.
import { rawSockets } from './node-raw.js';
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { ServerConf } from '../config/types.js';
import { TrestyError } from '../errors.js';
import { type ErrorLog, nextConnection, requestContext } from '../log/index.js';
import { bindName } from './binds.js';
import { answeredByFront, closing, fileAnswers, peerReset, unsentAtClose, type NodeExchange } from './exchange.js';
import { frontContext } from './front-context.js';
import type { LoggedAnswer } from './native-front.js';
import { errorPage, wireStatus } from './native-pages.js';
import { checkHead } from './node-head-checks.js';
import type { Line09 } from './node-http09.js';
import { duplicateHeader, headRefusal, refusalAnswer, unknownTransferEncoding } from './node-refusal.js';
import { withLead } from './node-head.js';
import { RefusedExchange } from './refused-exchange.js';
import { type Bind, groupFor, selectServer, serverName } from './vhost.js';

export class FrontRefusals {
  constructor(
    private readonly log: ErrorLog,
    /** The access log of a request node's parser refused (the pipeline never sees it). */
    private readonly logAnswer?: (a: LoggedAnswer) => void,
  ) {}

  /** A request was dispatched on `socket`: its first bytes are no longer needed here; returned
   *  for the connection's first request (a raw request socket reads what node parsed past it). */
  dispatched(socket: Socket): Buffer | undefined {
    const first = this.firstBytes.get(socket);
    if (first === undefined) return undefined;
    this.firstBytes.delete(socket);
    this.served.add(socket);
    return first;
  }

  /** Each connection's `*N` (log/connections.ts: one counter with the fake connections'). */
  private readonly numbers = new WeakMap<Socket, number>();

  /** The connection's number for error-log lines (`*N`), undefined for one not watched. */
  numberOf(socket: Socket): number | undefined { return this.numbers.get(socket); }

  /** When each connection was watched (accepted), for $connection_time. */
  private readonly starts = new WeakMap<Socket, number>();
  startOf(socket: Socket): number | undefined { return this.starts.get(socket); }

  /** A new connection: numbered; nginx's line when its client closes it between requests, with
   *  no context. */
  watch(socket: Socket, bind: Bind): void {
    this.numbers.set(socket, nextConnection());
    this.starts.set(socket, Date.now());
    socket.once('end', () => {
      const res = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage ?? null;
      if (res === null) {
        if (this.served.has(socket)) this.log.log('info', `client ${unmapped(socket.remoteAddress)} closed keepalive connection`, this.numbers.get(socket));
      } else if (res.headersSent && !res.writableFinished && socket.writableLength > 0) {
        this.finWhileStuck(socket, bind, res);
      }
    });
  }

  /**
   * A FIN while an answer waits for room (the client no longer reads it): nginx's writer tests
   * reading then, sees the close and closes at once (a static file's line names the phase, a Lua
   * handler's does not). A client that half-closes and still reads gets its answer.
   */
  private finWhileStuck(socket: Socket, bind: Bind, res: http.ServerResponse): void {
    const req = res.req;
    const group = groupFor(bind, socket.localAddress);
    const srv = group.single ? group.defaultServer : selectServer(group, req.headers.host);
    this.log.bytes('info', `client prematurely closed connection${fileAnswers.has(res) ? ' while sending response to client' : ''}${frontContext({
      remoteAddress: unmapped(socket.remoteAddress), method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, headers: req.headers,
    }, srv)}`, this.numbers.get(socket));
    unsentAtClose.set(res, unsent(socket));
    socket.destroy();
  }

  /**
   * client_header_timeout (`why`), or the client's close (`why` null), before a whole first line:
   * nginx's info line. Nothing came: no request begun, the listen address is the server.
   */
  beforeLine(bind: Bind, socket: Socket, head: Buffer | null, why: string | null): void {
    const client = unmapped(socket.remoteAddress);
    const text = head === null ? '' : head.toString('latin1').replace(/^[\r\n]+/, '');
    if (text === '') {
      this.log.log('info', `${why ?? 'client closed connection'} while waiting for request, client: ${client}, server: ${bindName(bind)}`, this.numbers.get(socket));
      return;
    }
    const srv = groupFor(bind, socket.localAddress).defaultServer;
    const line = text.replace(/[\r\n][^]*$/, '');
    this.log.bytes('info', `${why ?? 'client prematurely closed connection'} while reading client request line${requestContext({
      client, server: serverName(srv), request: line,
    })}`, this.numbers.get(socket));
    // nginx ends the request it began with 400 (408 for the timeout) and logs it, nothing sent.
    this.logGone(socket, srv, line, {}, why === null ? 400 : 408, false);
  }

  private logGone(socket: Socket, srv: ServerConf, line: string, headers: Record<string, string>, status: number, lineEnded: boolean, sent = 0): void {
    if (!this.logAnswer) return;
    const ex = new RefusedExchange(line, headers, unmapped(socket.remoteAddress), socket.remotePort ?? 0,
      unmapped(socket.localAddress), socket.localPort ?? 0, lineEnded);
    this.logAnswer({ ex, server: srv, loc: srv.defaults, status, sent, msec: 0 });
  }

  /** A new connection's first bytes, until its first request is dispatched: node reports a close
   *  in the middle of a head with no bytes, and nginx's line names what came. */
  readonly firstBytes = new WeakMap<Socket, Buffer>();
  /** Connections that had a request: a close between requests is a keep-alive one's. */
  private readonly served = new WeakSet<Socket>();
  /** Connections node's parser refused once (it may report the same bytes again). */
  private readonly refusedSockets = new WeakSet<Socket>();

  /**
   * A request whose one Transfer-Encoding is not `chunked` (nginx compares the whole value:
   * `gzip, chunked`, which node's parser takes, is refused too): nginx's 501, its info line and
   * access-log line, then the close. True when refused; node's own later error for the same
   * bytes is then ignored.
   */
  refuseTransferEncoding(ex: NodeExchange, srv: ServerConf): boolean {
    const tes = teLines(ex.req.rawHeaders);
    if (tes.length !== 1) return false;
    const value = tes[0]!.replace(/^[^:]*: /, '');
    if (/^chunked$/i.test(value)) return false;
    const socket = ex.req.socket;
    this.refusedSockets.add(socket);
    this.log.bytes('info', `${unknownTransferEncoding(value)} while reading client request headers${frontContext(ex, srv)}`, this.numbers.get(socket));
    const page = errorPage(501);
    ex.res.shouldKeepAlive = false;
    ex.writeHead(501, [['Content-Type', 'text/html'], ['Content-Length', String(Buffer.byteLength(page))], ['Connection', 'close']]);
    ex.end(page);
    this.logAnswer?.({ ex, server: srv, loc: srv.defaults, status: 501, sent: ex.bytesSent, msec: 0 });
    return true;
  }

  /** An HTTP/0.9 line whose method is not GET: nginx's info line and its 400 page (no status
   *  line, as HTTP/0.9), then the close. `srv`: the listen address's default server. */
  refuse09(socket: Socket, srv: ServerConf, line: Line09): void {
    this.log.bytes('info', `client sent invalid method in HTTP/0.9 request while reading client request line${requestContext({
      client: unmapped(socket.remoteAddress), server: serverName(srv), request: `${line.method} ${line.target}`,
    })}`, this.numbers.get(socket));
    socket.end(errorPage(400));
  }

  /**
   * A head node's parser took and nginx refuses (node-head-checks.ts: a too long request line, a
   * duplicate or invalid Host...): nginx's info line, its page with `Connection: close`, the
   * access-log line. True when refused.
   */
  refuseHead(ex: NodeExchange, srv: ServerConf, lineMax: number): boolean {
    const req = ex.req;
    const c = checkHead(req.method ?? '', req.url ?? '', req.httpVersion, req.rawHeaders, lineMax);
    if (c === null) return false;
    const socket = req.socket;
    this.refusedSockets.add(socket);
    const ctx = requestContext({
      client: ex.remoteAddress, server: serverName(srv), request: c.inLine ? null : `${req.method ?? ''} ${req.url ?? ''} HTTP/${req.httpVersion}`, host: c.host,
    });
    this.log.bytes('info', `${c.reason} while reading client request ${c.inLine ? 'line' : 'headers'}${ctx}`, this.numbers.get(socket));
    const page = errorPage(c.status);
    ex.res.shouldKeepAlive = false;
    ex.special(c.status);
    ex.writeHead(c.status, [['Content-Type', 'text/html'], ['Content-Length', String(Buffer.byteLength(page))], ['Connection', 'close']]);
    ex.end(page);
    this.logAnswer?.({ ex, server: srv, loc: srv.defaults, status: c.status, sent: ex.bytesSent, msec: 0 });
    return true;
  }

  /**
   * A client's reset in a request's body (nginx's recv() line, no phase) or while its answer goes
   * out (nginx's read test then); at other times nginx has not read and logs nothing.
   */
  private resetLine(socket: Socket, group: ReturnType<typeof groupFor>, n: number | undefined): void {
    const res = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage ?? null;
    const req = res?.req;
    if (!res || !req) return;
    const what = !req.complete ? 'recv() failed (104: Connection reset by peer)'
      : res.headersSent && !res.writableFinished ? 'client prematurely closed connection (104: Connection reset by peer) while sending response to client' : null;
    if (what === null) return;
    const srv = group.single ? group.defaultServer : selectServer(group, req.headers.host);
    this.log.bytes('info', `${what}${frontContext({
      remoteAddress: unmapped(socket.remoteAddress), method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, headers: req.headers,
    }, srv)}`, n);
  }

  /**
   * node's parser refused the bytes (its `clientError`): nginx's log line and answer. Before the
   * request is dispatched (a bad line or header): the reason node-refusal.ts reads from the bytes,
   * at info, and nginx's page for its status. In a request's body (a bad chunk, a
   * Transfer-Encoding llhttp refuses after the head): that request's line and server, and the
   * answer through its response when none was sent yet. The connection is closed either way.
   */
  refused(bind: Bind, err: ParserError, socket: Socket): void {
    // node destroys the socket without its error: a request's line for its failed write says 104
    if (err.code === 'ECONNRESET') peerReset.add(socket);
    // A raw request socket's: bytes its last packet had after the request are not a request.
    // One whose answer closed it: what the client still sends is dropped (lingering close).
    if (this.refusedSockets.has(socket) || rawSockets.has(socket) || closing.has(socket)) return;
    this.refusedSockets.add(socket);
    const code = err.code ?? '';
    const n = this.numbers.get(socket);
    const client = unmapped(socket.remoteAddress);
    const group = groupFor(bind, socket.localAddress);
    if (!code.startsWith('HPE_')) {
      // headersTimeout (node's own clock): nginx's client_header_timeout line, no answer.
      if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
        this.log.bytes('info', `client timed out (110: Connection timed out) while reading client request headers${requestContext({
          client, server: serverName(group.defaultServer), request: null,
        })}`, n);
      } else if (code === 'ECONNRESET') {
        this.resetLine(socket, group, n);
      }
      socket.destroy();
      return;
    }
    const res = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage ?? null;
    const req = res?.req;
    if (res && req && !req.complete) {
      const srv = group.single ? group.defaultServer : selectServer(group, req.headers.host);
      const ctx = frontContext({
        remoteAddress: client, method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, headers: req.headers,
      }, srv);
      const te = code === 'HPE_INVALID_TRANSFER_ENCODING';
      if (code === 'HPE_INVALID_EOF_STATE') {
        // Gone in the middle of the body: nginx logs it and answers nothing.
        this.log.bytes('info', `client prematurely closed connection${ctx}`, n);
        socket.destroy();
        return;
      }
      const tes = te ? teLines(req.rawHeaders) : [];
      const status = te && tes.length === 1 ? 501 : 400;
      if (tes.length > 1) this.log.bytes('info', `${duplicateHeader(tes[1]!, tes[0]!)} while reading client request headers${ctx}`, n);
      else if (te) this.log.bytes('info', `${unknownTransferEncoding(tes[0]?.replace(/^[^:]*: /, '') ?? '')} while reading client request headers${ctx}`, n);
      else this.log.bytes('error', `client sent invalid chunked body${ctx}`, n); // nginx: NGX_LOG_ERR, no phase
      // A handler reading the body learns it failed, once the answer went out (node does not
      // abort the request itself after its parser's error: the handler would wait forever).
      const fail = (): void => {
        req.destroy(new TrestyError('TRESTY_ERR_BODY_INVALID', te ? 'client sent an unknown Transfer-Encoding' : 'client sent invalid chunked body'));
      };
      if (res.headersSent) { fail(); socket.destroy(); return; }
      const page = errorPage(status);
      res.shouldKeepAlive = false;
      res.writeHead(status, withLead(res, ['Content-Type', 'text/html', 'Content-Length', String(Buffer.byteLength(page)), 'Connection', 'close']));
      res.end(page);
      answeredByFront.set(res, Buffer.byteLength(page)); // nginx's $body_bytes_sent is the page's
      res.once('close', fail);
      return;
    }
    let packet = err.rawPacket ?? Buffer.alloc(0);
    let at = err.bytesParsed ?? 0;
    if (code === 'HPE_INVALID_EOF_STATE' && packet.length === 0) {
      packet = this.firstBytes.get(socket) ?? packet;
      at = packet.length;
    }
    // A connection's first request whose head came in several reads: node names the last read
    // only; the first one holds the request line (a read between them is not kept).
    const first = this.firstBytes.get(socket);
    if (first !== undefined && packet !== first && code !== 'HPE_INVALID_EOF_STATE') {
      packet = Buffer.concat([first, packet]);
      at += first.length;
    }
    const r = headRefusal(code, packet, at, first !== undefined);
    const srv = r.host !== undefined && !group.single ? selectServer(group, r.host) : group.defaultServer;
    this.log.bytes('info', `${r.reason} ${r.phase}${requestContext({ client, server: serverName(srv), request: r.request, host: r.host })}`, n);
    const page = r.status === 0 ? '' : errorPage(r.status);
    // nginx logs the refused request: its line as received, 400 (494 too), the page's bytes.
    // A client gone in the line (status 0 then) has no URI yet.
    const lineEnded = r.status !== 0 || r.phase !== 'while reading client request line';
    this.logGone(socket, srv, r.request, r.host === undefined ? {} : { host: r.host }, r.status === 0 ? 400 : wireStatus(r.status), lineEnded, Buffer.byteLength(page));
    if (r.status === 0) { socket.destroy(); return; }
    let sent = false;
    const send = (): void => {
      if (sent) return;
      sent = true;
      socket.end(refusalAnswer(r.status, page));
      // nginx's lingering close, at most lingering_time: the client reads the answer, then it is gone.
      socket.setTimeout(5000, () => socket.destroy());
    };
    // A pipelined request's answer still being written goes first.
    if (res && !res.writableFinished) res.once('finish', send).once('close', send);
    else send();
  }
}

/** node's parser error: llhttp's code, where it stopped, the bytes it was parsing. */
type ParserError = NodeJS.ErrnoException & { bytesParsed?: number; rawPacket?: Buffer };

/** The request's Transfer-Encoding header lines, `Name: value`. */
function teLines(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'transfer-encoding') out.push(`${raw[i]}: ${raw[i + 1]}`);
  return out;
}

export function unmapped(addr: string | undefined): string {
  if (addr === undefined) return '';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

/**
 * The bytes a socket still holds: its stream's queue (the write libuv has counts whole there) less
 * that write, plus what libuv has not written of it (node's internals; 0 where they are missing).
 */
function unsent(socket: Socket): number {
  const st = (socket as unknown as { _writableState?: { length?: number; writelen?: number } })._writableState;
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: number } | null })._handle;
  return Math.max(0, (st?.length ?? 0) - (st?.writelen ?? 0)) + (handle?.writeQueueSize ?? 0);
}
