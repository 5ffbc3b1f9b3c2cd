// The HTTP front: node:http servers on the conf's listen sockets, each request handed to the
// pipeline as an HttpExchange with its server block chosen. In a cluster worker, listen() asks
// the master for the socket, so all workers share it.
import http from 'node:http';
import type { HttpConf, ServerConf } from '../config/types.js';
import { TrestyError } from '../errors.js';
import type { ErrorLog } from '../log/index.js';
import { NodeExchange } from './exchange.js';
import { findLocation } from './locations.js';
import type { RequestHandler } from './types.js';
import { type Bind, groupFor, planBinds, selectServer } from './vhost.js';

const PAGE_413 = '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n'
  + '<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>tresty</center>\r\n</body>\r\n</html>\r\n';
const PAGE_500 = '<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n'
  + '<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>tresty</center>\r\n</body>\r\n</html>\r\n';

/** How long a draining worker keeps idle keep-alive connections open (see drain()). */
const IDLE_GRACE_MS = 1000;

export function bindName(b: { host: string; port: number }): string {
  const host = b.host === '' ? '0.0.0.0' : b.host.includes(':') ? `[${b.host}]` : b.host;
  return `${host}:${b.port}`;
}

export class HttpFront {
  private readonly servers: http.Server[] = [];
  private readonly binds: Bind[] = [];
  private draining = false;

  constructor(
    conf: HttpConf,
    private readonly handle: RequestHandler,
    private readonly log: ErrorLog,
    /** worker_connections: the open connections this worker takes, over all its listen sockets. */
    private readonly maxConnections = 0,
  ) {
    for (const bind of planBinds(conf)) {
      if (bind.ssl) continue; // served by TlsFront (tls-front.ts)
      this.binds.push(bind);
      this.servers.push(this.createServer(bind));
    }
  }

  private connections = 0;
  private readonly countConnection = (socket: import('node:net').Socket): void => {
    if (this.connections >= this.maxConnections) {
      this.log.alert(`${this.maxConnections} worker_connections are not enough`);
      socket.destroy();
      return;
    }
    this.connections++;
    socket.once('close', () => { this.connections--; });
  };

  private createServer(bind: Bind): http.Server {
    const fixed = bind.byAddress.size === 0 ? bind.any : null;
    const server = http.createServer((req, res) => {
      const group = fixed ?? groupFor(bind, req.socket.localAddress);
      const srv = group.single ? group.defaultServer : selectServer(group, req.headers.host);
      // While draining, every answer closes its connection so the client moves to a new worker.
      if (this.draining || srv.defaults.keepaliveTimeout === 0) res.shouldKeepAlive = false;
      const ex = new NodeExchange(req, res);
      if ((req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined)
        && !this.bodyAllowed(ex, srv)) return;
      try {
        this.handle(ex, srv);
      } catch (e) {
        this.log.error(`handler failed: ${(e as Error)?.stack ?? String(e)}`);
        if (!res.headersSent) {
          res.writeHead(500, { 'Content-Type': 'text/html', 'Content-Length': PAGE_500.length });
          res.end(PAGE_500);
        } else {
          res.destroy();
        }
      }
    });
    // keepalive_timeout of the listen's default server, as nginx applies it per connection.
    const ka = (bind.any ?? bind.byAddress.values().next().value!).defaultServer.defaults.keepaliveTimeout;
    server.keepAliveTimeout = ka;
    // worker_connections, counted here: node's own maxConnections makes the cluster master hand a
    // refused connection back and forth between full workers (node 20), never closing it.
    if (this.maxConnections > 0) server.on('connection', this.countConnection);
    if (ka >= server.headersTimeout) server.headersTimeout = ka + 1000;
    return server;
  }

  /**
   * client_max_body_size of the location the URI maps to: a Content-Length over it is answered
   * 413 before the body is read; a chunked body is cut when it grows past it.
   */
  private bodyAllowed(ex: NodeExchange, srv: ServerConf): boolean {
    const url = ex.req.url ?? '/';
    const q = url.indexOf('?');
    let uri = q < 0 ? url : url.slice(0, q);
    try { uri = decodeURIComponent(uri); } catch { /* the pipeline answers 400 for a bad URI */ }
    const limit = (findLocation(srv, uri) ?? srv.defaults).clientMaxBodySize;
    if (limit === 0) return true;
    const cl = ex.req.headers['content-length'];
    if (cl !== undefined && Number(cl) > limit) {
      this.log.error(`client intended to send too large body: ${cl} bytes, client: ${ex.remoteAddress}, `
        + `request: "${ex.method} ${url} HTTP/${ex.httpVersion}"`);
      ex.res.shouldKeepAlive = false;
      ex.res.writeHead(413, { 'Content-Type': 'text/html', 'Content-Length': PAGE_413.length, Connection: 'close' });
      ex.res.end(PAGE_413);
      return false;
    }
    ex.bodyLimit = limit;
    return true;
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
      s.listen({ port: bind.port, host: bind.host === '' ? '0.0.0.0' : bind.host, ipv6Only: ipv6 }, () => {
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
      timer = setInterval(() => { for (const s of this.servers) s.closeIdleConnections(); }, 50);
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
  }
}
