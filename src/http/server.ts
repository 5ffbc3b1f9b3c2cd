// The HTTP front: node:http servers on the conf's listen sockets, each request handed to the
// pipeline as an HttpExchange with its server block chosen. In a cluster worker, listen() asks
// the master for the socket, so all workers share it.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { HttpConf, ServerConf } from '../config/types.js';
import { TrestyError } from '../errors.js';
import type { ErrorLog } from '../log/index.js';
import { bindKey, bindName, type ListenFd } from './binds.js';
import type { NodeExchange } from './exchange.js';
import { holdContinue, inTurn } from './node-turns.js';
import { frontContext } from './front-context.js';
import { frontExchange } from './front-exchange.js';
import { FrontRefusals } from './front-refusals.js';
import { errorPage } from './native-pages.js';
import { withLead } from './node-head.js';
import { as10, sniffFirstLine } from './node-http09.js';
import { requestHost } from './request-host.js';
import { bodyLimit as locationBodyLimit } from './body-limit.js';
import type { LoggedAnswer } from './native-front.js';
import { countConnection, countRequest } from '../status/counters.js';
import type { RequestHandler } from './types.js';
import { type Bind, firstGroup, groupFor, planBinds, selectServer } from './vhost.js';
import { headMax } from './node-head-checks.js';

const PAGE_500 = errorPage(500);

/** How long a draining worker keeps idle keep-alive connections open (see drain()). */
const IDLE_GRACE_MS = 1000;

export { bindName };

export class HttpFront {
  private readonly servers: http.Server[] = [];
  /** nginx's lines and answers where node's own code has none (front-refusals.ts). */
  private readonly refusals: FrontRefusals;
  private readonly binds: Bind[] = [];
  private draining = false;

  constructor(
    conf: HttpConf,
    private readonly handle: RequestHandler,
    private readonly log: ErrorLog,
    /** worker_connections: the open connections this worker takes, over all its listen sockets. */
    private readonly maxConnections = 0,
    /** The master's listen sockets (without them, node:cluster shares its own). */
    private readonly fds: readonly ListenFd[] = [],
    /** The listen sockets this front serves (all of the conf's by default). */
    binds: readonly Bind[] = planBinds(conf),
    /** The access log of a request node's parser refused (the pipeline never sees it). */
    logAnswer?: (a: LoggedAnswer) => void,
  ) {
    this.refusals = new FrontRefusals(log, logAnswer);
    for (const bind of binds) {
      this.binds.push(bind);
      this.servers.push(this.createServer(bind));
    }
  }

  private connections = 0;
  /**
   * Connections with no request in flight (new ones before their first request, keep-alive ones
   * between requests), oldest first: a Set iterates in insertion order, and a connection that goes
   * idle again is deleted and re-added, so it moves to the end.
   */
  private readonly idle = new Set<Socket>();
  /** Connections this front closed to make room: already uncounted. */
  private readonly evicted = new WeakSet<Socket>();

  /** False when the connection was refused (worker_connections reached, nothing idle). */
  private countConnection(socket: Socket): boolean {
    if (this.connections >= this.maxConnections && !this.makeRoom()) {
      this.log.alert(`${this.maxConnections} worker_connections are not enough`);
      socket.destroy();
      return false;
    }
    this.connections++;
    this.idle.add(socket);
    socket.once('close', () => {
      this.idle.delete(socket);
      if (!this.evicted.has(socket)) this.connections--;
    });
    return true;
  }

  /**
   * worker_connections reached: close the oldest idle connections, as nginx does
   * (ngx_drain_connections: an eighth of the idle ones, at least 1, at most 32), so that idle
   * keep-alive connections cannot lock new clients out. False when none is idle.
   */
  private makeRoom(): boolean {
    if (this.idle.size === 0) return false;
    this.log.warn(`${this.maxConnections} worker_connections are not enough, reusing connections`);
    let n = Math.min(32, Math.max(1, this.idle.size >>> 3));
    for (const s of this.idle) {
      if (n-- === 0) break;
      this.idle.delete(s);
      this.evicted.add(s);
      this.connections--;
      s.destroy();
    }
    return true;
  }

  /** Requests in flight per connection (pipelined ones overlap). */
  private readonly inFlight = new WeakMap<Socket, number>();

  /** A request started on `socket`: not idle until every answer on it is sent. */
  private busy(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket;
    this.idle.delete(socket);
    this.inFlight.set(socket, (this.inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const n = (this.inFlight.get(socket) ?? 1) - 1;
      this.inFlight.set(socket, n);
      if (n === 0 && !socket.destroyed && !this.evicted.has(socket)) this.idle.add(socket);
    });
  }

  /** New connections whose first line is not read yet (see sniff). */
  private readonly sniffing = new Set<Socket>();
  /**
   * A new connection: counted against worker_connections (node's own maxConnections makes the
   * cluster master hand a refused connection back and forth between full workers, never closing
   * it), then its first request line is looked at before node's HTTP parser takes the socket.
   */
  private connection(server: http.Server, bind: Bind, socket: Socket, nodeConnection: (s: Socket) => void): void {
    if (this.maxConnections > 0 && !this.countConnection(socket)) return;
    this.refusals.watch(socket, bind);
    this.sniff(server, bind, socket, nodeConnection);
  }

  /**
   * nginx answers an HTTP/0.9 request (`GET /\r\n`) at once; node's parser takes that line as a
   * request line and waits for headers that never come. So the first line is read here: an
   * HTTP/0.9 one is answered as nginx does, anything else goes to node with the bytes read so far.
   * Most first packets hold the whole line, so this decides on the first read.
   */
  private sniff(server: http.Server, bind: Bind, socket: Socket, nodeConnection: (s: Socket) => void): void {
    this.sniffing.add(socket);
    sniffFirstLine(socket, groupFor(bind, socket.localAddress).defaultServer.defaults.engine.clientHeaderTimeout, {
      line: (kind, head) => {
        if (kind !== 'other') return this.answer09(server, bind, socket, kind, nodeConnection);
        nodeConnection.call(server, socket);
        this.refusals.firstBytes.set(socket, head);
        socket.emit('data', head);
      },
      // Silent, or gone before a whole line: nginx's line, no answer.
      stopped: (head, timedOut) => this.refusals.beforeLine(bind, socket, head, timedOut ? 'client timed out (110: Connection timed out)' : null),
      done: () => this.sniffing.delete(socket),
    });
  }

  /** An HTTP/0.9 request: GET gets the answer's body only (no status line), then the close. */
  private answer09(server: http.Server, bind: Bind, socket: Socket, req: { method: string; target: string }, nodeConnection: (s: Socket) => void): void {
    if (req.method !== 'GET') return this.refusals.refuse09(socket, groupFor(bind, socket.localAddress).defaultServer, req);
    nodeConnection.call(server, socket);
    // Given to node as HTTP/1.0 (no keep-alive); the exchange then leaves out the status line and headers.
    socket.emit('data', as10(socket, req));
  }

  private createServer(bind: Bind): http.Server {
    const fixed = bind.byAddress.size === 0 ? bind.any : null;
    const server = http.createServer({ maxHeaderSize: headMax(firstGroup(bind).defaultServer.defaults.engine) },
      (req, res) => inTurn(req, res, () => this.request(bind, fixed, req, res)));
    // A client that closes its side only still gets its answers, pipelined ones too, and the
    // connection closes after them (nginx does not read while it answers); node's default aborts
    // the requests. What waits for the client's abort hears of the close (exchange.ts onAbort).
    (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    this.tune(server, bind);
    return server;
  }

  /** A request node parsed, its turn come: the server chosen, the pipeline runs it. */
  private request(bind: Bind, fixed: Bind['any'], req: http.IncomingMessage, res: http.ServerResponse): void {
    countRequest(res);
    if (this.maxConnections > 0) this.busy(req, res);
    const first = this.refusals.dispatched(req.socket);
    const group = fixed ?? groupFor(bind, req.socket.localAddress);
    const srv = group.single ? group.defaultServer : selectServer(group, requestHost(req.url ?? '/', req.headers.host));
    // While draining, every answer closes its connection so the client moves to a new worker.
    if (this.draining || srv.defaults.keepaliveTimeout === 0) res.shouldKeepAlive = false;
    const ex = frontExchange(req, res, this.refusals, bind, srv);
    if (first !== undefined) ex.firstPacket = first;
    if (this.refusals.refuseHead(ex, srv, firstGroup(bind).defaultServer.defaults.engine.largeClientHeaderBuffers.size)) return;
    if (req.headers['transfer-encoding'] !== undefined && this.refusals.refuseTransferEncoding(ex, srv)) return;
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) this.bodyLimit(ex, srv);
    try {
      this.handle(ex, srv, group.defaultServer);
    } catch (e) {
      this.log.error(`handler failed: ${(e as Error)?.stack ?? String(e)}`);
      if (!res.headersSent) {
        ex.special(500); // nginx's 500 page closes the connection
        res.writeHead(500, withLead(res, ['Content-Type', 'text/html', 'Content-Length', String(PAGE_500.length)]));
        res.end(PAGE_500);
      } else {
        res.destroy();
      }
    }
  }

  /** keepalive_timeout, the connection hook (connection()) and the parser's refusals. */
  private tune(server: http.Server, bind: Bind): void {
    // keepalive_timeout of the listen's default server, as nginx applies it per connection.
    const dflt = firstGroup(bind).defaultServer;
    const ka = dflt.defaults.keepaliveTimeout;
    server.keepAliveTimeout = ka;
    // Every new connection goes through connection() before node's HTTP code sees it.
    const listeners = server.listeners('connection') as Array<(s: Socket) => void>;
    if (listeners.length === 1) {
      const nodeConnection = listeners[0]!;
      server.removeListener('connection', nodeConnection);
      server.on('connection', (socket: Socket) => this.connection(server, bind, socket, nodeConnection));
    } else if (this.maxConnections > 0) {
      server.on('connection', (socket: Socket) => { this.countConnection(socket); });
    }
    server.on('connection', countConnection);
    if (ka >= server.headersTimeout) server.headersTimeout = ka + 1000;
    holdContinue(server);
    server.on('clientError', (err: Error, socket: Socket) => this.refusals.refused(bind, err, socket));
  }

  /**
   * client_max_body_size of the location the URI maps to: a Content-Length over it is logged and
   * left to the pipeline's 413 (with error_page); a chunked body is cut when it grows past it.
   */
  private bodyLimit(ex: NodeExchange, srv: ServerConf): void {
    const limit = locationBodyLimit(srv, ex.req.url ?? '/');
    if (limit === 0) return;
    const cl = ex.req.headers['content-length'];
    if (cl !== undefined && Number(cl) > limit) {
      this.log.bytes('error', `client intended to send too large body: ${cl} bytes${frontContext(ex, srv)}`, ex.connection);
      ex.bodyTooLarge = true;
    }
    ex.bodyLimit = limit;
  }

  /** Opens every listen socket; rejects with TRESTY_ERR_LISTEN (nginx's bind() message). */
  async listen(): Promise<void> {
    await Promise.all(this.servers.map((s, i) => new Promise<void>((resolve, reject) => {
      const bind = this.binds[i]!;
      const onError = (e: NodeJS.ErrnoException): void => {
        reject(new TrestyError('TRESTY_ERR_LISTEN', `bind() to ${bindName(bind)} failed (${e.code ?? 'error'}: ${e.message})`, { cause: e }));
      };
      s.once('error', onError);
      const ipv6 = bind.host.includes(':');
      const given = this.fds.find((f) => f.key === bindKey(bind));
      const opts = given ? { fd: given.fd } : { port: bind.port, host: bind.host === '' ? '0.0.0.0' : bind.host, ipv6Only: ipv6 };
      s.listen(opts, () => {
        s.off('error', onError);
        s.on('error', (e) => this.log.error(`http server: ${(e as Error).message}`));
        resolve();
      });
    })));
  }

  /** The addresses actually bound (port 0 becomes a real port). */
  addresses(): string[] {
    return this.servers.map((s) => {
      const a = s.address();
      return typeof a === 'object' && a ? bindName({ host: a.address, port: a.port }) : String(a);
    });
  }

  /**
   * Graceful stop: accept nothing new, let in-flight requests finish; resolves when no
   * connection is left. `closed` runs once the listen sockets are closed: the worker waits there
   * until the cluster master stops handing it connections (a worker that exits with a hand-off
   * in flight loses that connection).
   *
   * Keep-alive connections are not closed at once (node's close() would): for IDLE_GRACE_MS a
   * client that sends its next request gets an answer with `Connection: close` and moves to a
   * new worker, instead of a reset racing its request. Still idle after that, they are closed.
   */
  async drain(closed: () => Promise<void> = async () => {}): Promise<void> {
    this.draining = true;
    const ended = Promise.all(this.servers.map((s) => new Promise<void>((resolve) => {
      if (!s.listening) return resolve();
      s.closeIdleConnections = () => {}; // shadows the prototype's for close() only
      s.close(() => resolve());
      delete (s as Partial<http.Server>).closeIdleConnections;
    })));
    let timer: NodeJS.Timeout | undefined;
    const grace = setTimeout(() => {
      timer = setInterval(() => {
        for (const s of this.servers) s.closeIdleConnections();
        for (const s of this.sniffing) s.destroy();
      }, 50);
    }, IDLE_GRACE_MS);
    try {
      await closed();
      await ended;
    } finally {
      clearTimeout(grace);
      clearInterval(timer);
    }
  }

  /** Fast stop: drop every connection now. */
  closeNow(): void {
    for (const s of this.servers) {
      s.close();
      s.closeAllConnections();
    }
    for (const s of this.sniffing) s.destroy();
  }
}
