// The TLS front: `listen ... ssl [http2]` sockets on Node's TLS stack. Before the handshake the
// ClientHello is read for its SNI name, which picks the server block and so its certificates (all
// its pairs: RSA and ECDSA) or its ssl_certificate_by_js, as nginx's certificate callback does.
// ALPN then hands the connection to HTTP/2 (one H2Exchange per stream) or HTTP/1.1 (node:http on
// the decrypted socket, as the plain front). Requests reach the pipeline as HttpExchanges with
// scheme https, the server block chosen by Host / :authority.
//
// Node's own SNI switch (SNICallback) copies one certificate of the chosen context over the
// default one, so a server with two pairs, or a default server with a pair of another key type,
// would hand out the wrong certificate: hence the ClientHello is read here and the TLS socket is
// made with the right context from the start (the bytes read are put back with unshift(); Node's
// TLS socket feeds what its socket holds to the TLS engine first).
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { HttpConf, ServerConf } from '../config/types.js';
import { TrestyError } from '../errors.js';
import { type ErrorLog, peerContext } from '../log/index.js';
import { type Hello, readHello } from '../tls/client-hello.js';
import { stapleTargets } from '../tls/ocsp-plan.js';
import { NodeStapler } from '../tls/ocsp-stapler.js';
import { markHandshake } from '../tls/info.js';
import { certRefusal, markNegotiated, markPlain, negotiatedName } from '../tls/verify.js';
import { checkConfCommands } from '../tls/conf-commands.js';
import { type CertHook, ContextCache, nodeServerOptions, SessionCache, trustedAnchors } from '../tls/contexts.js';
import { peerReset } from './exchange.js';
import { confCheck, type EngineBinding, loadEngine } from './native-binding.js';
import { frontContext } from './front-context.js';
import { frontExchange } from './front-exchange.js';
import { FrontRefusals, unmapped } from './front-refusals.js';
import { H2Exchange, watchSession } from './h2-exchange.js';
import { watchIdle } from './h2-idle.js';
import { nextConnection } from '../log/connections.js';
import { as10, type Line09, sniffFirstLine } from './node-http09.js';
import { requestHost } from './request-host.js';
import { bodyLimit as locationBodyLimit } from './body-limit.js';
import { holdContinue, inTurn } from './node-turns.js';
import { bindKey, bindName, type ListenFd } from './binds.js';
import type { HttpExchange, RequestHandler } from './types.js';
import { type Bind, groupFor, misdirected, namedServer, planBinds, selectServer, serverName, type VhostGroup } from './vhost.js';
import { countConnection, countRequest } from '../status/counters.js';
import { headMax } from './node-head-checks.js';

const IDLE_GRACE_MS = 1000;
/** How long a client may take to send its ClientHello and finish the handshake (nginx: 60 s). */
const HANDSHAKE_MS = 60_000;
/** A TLS alert record: fatal (2), unrecognized_name (112). */
const UNRECOGNIZED_NAME = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70]);

interface Entry {
  readonly bind: Bind;
  /** Accepts TCP connections; TLS starts once the ClientHello is read. */
  readonly server: net.Server;
  /** Carries the session cache events (newSession / resumeSession) for the TLS sockets. */
  readonly sessions: tls.Server;
  /** ssl_stapling: per server, the tls.Server its sockets hang on (stapleServer) */
  readonly stapling: Map<ServerConf, tls.Server>;
  readonly alpn: string[];
  readonly h1: http.Server;
  readonly h2: http2.Http2Server | null;
}

/** True when the conf has a `listen ... ssl`. */
export function hasTls(conf: HttpConf): boolean {
  return conf.servers.some((s) => s.listen.some((l) => l.ssl === true));
}

export class TlsFront {
  private readonly entries: Entry[] = [];
  private readonly sockets = new Set<tls.TLSSocket>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly contexts = new ContextCache();
  /** nginx's refusals of heads node's parser takes (node-head-checks.ts), as on the plain front. */
  private readonly refusals: FrontRefusals;
  private draining = false;
  private connections = 0;
  /** Called when the last TLS connection closes while draining. */
  private onEmpty: (() => void) | null = null;

  constructor(
    conf: HttpConf,
    private readonly handle: RequestHandler,
    private readonly log: ErrorLog,
    /** worker_connections, counted here apart from the plain front's connections. */
    private readonly maxConnections: number,
    private readonly certHook: CertHook | null,
    /** The master's listen sockets (without them, node:cluster shares its own). */
    private readonly fds: readonly ListenFd[] = [],
    binds: readonly Bind[] = planBinds(conf).filter((b) => b.ssl),
  ) {
    this.refusals = new FrontRefusals(log);
    // ssl_conf_command of the servers here: nginx's check, then what node:tls cannot express, at
    // start (not per handshake); the native engine's binds are its own
    const here = new Set(binds.flatMap((b) => [...(b.any ? [b.any] : []), ...b.byAddress.values()].flatMap((g) => g.servers)));
    for (const s of [...here].filter((x) => x.ssl.confCommands.length > 0)) {
      checkConfCommands(s.ssl.confCommands, false, confCheck());
      nodeServerOptions(s.ssl);
    }
    for (const bind of binds) this.entries.push(this.create(bind));
    // ssl_stapling: OpenSSL's OCSP helpers are the engine's, loaded only then (no engine build: no
    // staples here)
    const targets = stapleTargets(conf.servers).targets;
    const native = targets.length > 0 ? loadEngine() : null;
    if (native?.ocspRequest && native.ocspCheck) this.stapler = new NodeStapler(targets, native as Required<EngineBinding>, log);
  }

  private stapler: NodeStapler | null = null;

  /** The tls.Server a socket of server `srv` hangs on: the bind's, or with ssl_stapling a copy
   *  of it (same session cache) whose OCSPRequest event knows the server (ocsp-stapler.ts). */
  private stapleServer(e: Entry, srv: ServerConf): tls.Server {
    const stapler = this.stapler;
    if (stapler === null || !stapler.has(srv)) return e.sessions;
    let s = e.stapling.get(srv);
    if (s === undefined) {
      s = new tls.Server();
      for (const ev of ['newSession', 'resumeSession'] as const) {
        for (const l of e.sessions.listeners(ev)) s.on(ev, l as (...a: unknown[]) => void);
      }
      s.on('OCSPRequest', (_c: Buffer, _i: Buffer, done: (err: Error | null, resp?: Buffer) => void) => {
        const r = stapler.staple(srv);
        if (r === null) done(null); else done(null, r);
      });
      e.stapling.set(srv, s);
    }
    return s;
  }

  private group(bind: Bind, localAddress?: string): VhostGroup {
    return bind.byAddress.size === 0 ? bind.any! : groupFor(bind, localAddress);
  }

  private create(bind: Bind): Entry {
    const dflt = this.group(bind).defaultServer;
    const sessions = new tls.Server();
    if (dflt.ssl.sessionCache > 0) new SessionCache(dflt.ssl.sessionCache, dflt.ssl.sessionTimeout).attach(sessions);
    const h1 = http.createServer({ maxHeaderSize: headMax(dflt.defaults.engine) }, (req, res) => inTurn(req, res, () => this.onRequest(bind, req, res)));
    holdContinue(h1);
    // A client that closes its side only still gets its answers (server.ts's createServer says why)
    (h1 as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    h1.keepAliveTimeout = dflt.defaults.keepaliveTimeout;
    if (h1.keepAliveTimeout >= h1.headersTimeout) h1.headersTimeout = h1.keepAliveTimeout + 1000;
    let h2: http2.Http2Server | null = null;
    if (bind.http2) {
      const base = h2Settings(dflt);
      h2 = http2.createServer({ settings: base });
      h2.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) => {
        this.onStream(bind, stream, headers, raw);
      });
      h2.on('session', (s: http2.ServerHttp2Session) => {
        this.sessions.add(s);
        const n = nextConnection();
        const client = unmapped(s.socket?.remoteAddress);
        watchSession(s, n, () => this.log.log('info', `client prematurely closed connection while processing HTTP/2 connection, client: ${client}, server: ${bindName(bind)}`, n));
        // the limits of the server the handshake chose (SNI), as nginx's connection takes them
        const srv = this.serverOf(bind, s.socket?.localAddress, negotiatedName(s.socket as net.Socket | undefined) || undefined);
        const d = srv.defaults;
        const own = h2Settings(srv);
        if (own.maxConcurrentStreams !== base.maxConcurrentStreams || own.initialWindowSize !== base.initialWindowSize) s.settings(own);
        watchIdle(s, { first: d.engine.clientHeaderTimeout, idle: d.keepaliveTimeout, requests: d.engine.keepaliveRequests });
        s.on('close', () => this.sessions.delete(s));
        if (this.draining) s.close();
      });
    }
    const entry: Entry = { bind, server: net.createServer({ pauseOnConnect: true }), sessions, stapling: new Map(), alpn: bind.http2 ? ['h2', 'http/1.1'] : ['http/1.1'], h1, h2 };
    entry.server.on('connection', (socket: net.Socket) => this.onConnection(entry, socket));
    return entry;
  }

  private onConnection(e: Entry, raw: net.Socket): void {
    if (this.maxConnections > 0 && this.connections >= this.maxConnections) {
      this.log.alert(`${this.maxConnections} worker_connections are not enough`);
      raw.destroy();
      return;
    }
    this.connections++;
    countConnection(raw);
    raw.once('close', () => { this.connections--; });
    raw.on('error', () => { /* a reset before or during the handshake */ });
    raw.setNoDelay(true);
    void this.handshake(e, raw);
  }

  /** Reads the ClientHello, picks the context, and starts TLS on the socket with it. */
  private async handshake(e: Entry, raw: net.Socket): Promise<void> {
    const hello = await readHello(raw, HANDSHAKE_MS);
    if (hello === null) { raw.destroy(); return; }
    if (hello.notTls) {
      // read as HTTP: the pipeline answers its request 497 and logs it (tls/verify.ts)
      markPlain(raw);
      raw.unshift(hello.bytes);
      e.h1.emit('connection', raw);
      raw.resume();
      return;
    }
    let ctx: tls.SecureContext | undefined;
    let staple: Buffer | null = null;
    let chose = false;
    const dflt = this.group(e.bind).defaultServer;
    let srv = this.serverFor(e.bind, hello.serverName);
    if (srv.ssl.rejectHandshake) {
      // ssl_reject_handshake: nginx's fatal unrecognized_name alert, in a plain TLS 1.2 record
      this.log.info(`handshake rejected while SSL handshaking, client: ${raw.remoteAddress ?? ''}`);
      raw.end(UNRECOGNIZED_NAME);
      return;
    }
    // a server with no certificate of its own is served with the default's (nginx 1.22, the engine)
    if (srv.ssl.certificates.length === 0 && srv.ssl.certificateHandler === null) srv = dflt;
    try {
      [ctx, staple, chose] = await this.contextFor(srv, hello, dflt, peerContext(unmapped(raw.remoteAddress), bindName(e.bind)));
    } catch (err) {
      this.log.info(`SSL certificate selection failed (${(err as Error).message}) while SSL handshaking, client: ${raw.remoteAddress ?? ''}`);
    }
    if (ctx === undefined || raw.destroyed) { raw.destroy(); return; }
    raw.unshift(hello.bytes);
    // ssl_verify_client: ask for a certificate, take any (the request is refused instead, as nginx)
    const verify = srv.ssl.verifyClient;
    // ssl_stapling staples the conf's certificate (nginx's status callback is the SSL_CTX's): not
    // one ssl_certificate_by_js chose, nor over a response its handler set (tresty/ocsp's wins)
    const own = chose || staple !== null;
    const socket = new tls.TLSSocket(raw, {
      isServer: true, server: own ? e.sessions : this.stapleServer(e, srv), secureContext: ctx, ALPNProtocols: e.alpn,
      ...(verify !== null ? { requestCert: true, rejectUnauthorized: false } : {}),
    } as tls.TLSSocketOptions);
    // tresty/ocsp's staple: Node's status callback sends it only to a client that asked
    if (staple !== null) (socket as unknown as { _handle: { setOCSPResponse(b: Buffer): void } | null })._handle?.setOCSPResponse(staple);
    markHandshake(socket, hello, verify !== null ? srv.ssl.verifyDepth ?? 1 : null, verify !== null ? trustedAnchors(srv.ssl) : null);
    // the name a server matched: a request's Host naming another may be refused (421)
    if (namedServer(this.group(e.bind, raw.localAddress), hello.serverName) !== null) markNegotiated(socket, hello.serverName);
    socket.setTimeout(HANDSHAKE_MS, () => socket.destroy());
    socket.on('error', (err: Error & { code?: string }) => {
      // node's HTTP layer may not hear of a reset (TLSSocket's error): a request's line says 104
      if (err.code === 'ECONNRESET') peerReset.add(socket);
      // After the handshake, errors are the HTTP layer's to see (a reset connection).
      if (!this.sockets.has(socket)) {
        this.log.info(`SSL_do_handshake() failed (${err.code ?? 'SSL'}: ${err.message}) while SSL handshaking, client: ${raw.remoteAddress ?? ''}`);
      }
    });
    socket.once('secure', () => {
      // As Node's TLS server does before 'secureConnection' (HTTP/2 waits for it otherwise).
      (socket as { secureConnecting?: boolean }).secureConnecting = false;
      socket.setTimeout(0);
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        if (this.sockets.size === 0) this.onEmpty?.();
      });
      if (e.h2 !== null && socket.alpnProtocol === 'h2') e.h2.emit('connection', socket);
      else sniffFirstLine(socket, dflt.defaults.engine.clientHeaderTimeout, { line: (kind, head) => this.toH1(e, socket, kind, head) });
    });
  }

  /** HTTP/1 on a TLS socket: its first line read (node-http09.ts), node's parser takes it. */
  private toH1(e: Entry, socket: tls.TLSSocket, kind: 'other' | Line09, head: Buffer): void {
    // numbered first: the refusal's line carries the connection's `*N`, as nginx's
    this.refusals.watch(socket, e.bind);
    // the socket's own end would follow the client's FIN (TLSSocket's default), answer unsent
    socket.allowHalfOpen = true;
    // nginx answers 400 with its page (no status line: HTTP/0.9) and closes
    if (kind !== 'other' && kind.method !== 'GET') return this.refusals.refuse09(socket, this.group(e.bind, socket.localAddress).defaultServer, kind);
    e.h1.emit('connection', socket);
    socket.emit('data', kind === 'other' ? head : as10(socket, kind));
  }

  /** The server of a handshake: the SNI name's, else the default. */
  private serverFor(bind: Bind, name: string): ServerConf {
    const group = this.group(bind);
    return name === '' ? group.defaultServer : selectServer(group, name);
  }

  /** The context of a handshake: its server's, or what its ssl_certificate_by_js chose; and
   *  the staple that handler set; and whether it chose a certificate of its own. */
  private async contextFor(srv: ServerConf, hello: Hello, dflt: ServerConf, peer: string): Promise<[tls.SecureContext | undefined, Buffer | null, boolean]> {
    if (srv.ssl.certificateHandler !== null && this.certHook !== null) {
      const a = await this.certHook(srv, hello.serverName, hello.statusRequest, peer);
      if (a.pair !== null) return [this.contexts.choice(srv, a.pair, dflt), a.ocsp, true];
      if (srv.ssl.certificates.length > 0) return [this.contexts.server(srv, dflt), a.ocsp, false];
    }
    return [srv.ssl.certificates.length > 0 ? this.contexts.server(srv, dflt) : undefined, null, false];
  }

  private serverOf(bind: Bind, localAddress: string | undefined, host: string | string[] | undefined): ServerConf {
    const group = this.group(bind, localAddress);
    return group.single ? group.defaultServer : selectServer(group, typeof host === 'string' ? host : undefined);
  }

  private onRequest(bind: Bind, req: http.IncomingMessage, res: http.ServerResponse): void {
    countRequest(res);
    const srv = this.serverOf(bind, req.socket.localAddress, requestHost(req.url ?? '/', req.headers.host));
    // a request refused for its TLS (plain HTTP, a client certificate) closes, as nginx's 400s do
    if (this.draining || srv.defaults.keepaliveTimeout === 0 || certRefusal(req.socket, srv.ssl.verifyClient, misdirected(negotiatedName(req.socket), req.headers.host)) !== null) {
      res.shouldKeepAlive = false;
    }
    const ex = frontExchange(req, res, this.refusals, bind, srv);
    if (this.refusals.refuseHead(ex, srv, this.group(bind).defaultServer.defaults.engine.largeClientHeaderBuffers.size)) return;
    ex.bodyLimit = this.limitFor(srv, ex);
    this.run(ex, srv, this.group(bind, req.socket.localAddress).defaultServer);
  }

  private onStream(bind: Bind, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, raw: string[]): void {
    stream.on('error', () => { /* a reset stream: the exchange sees it closed */ });
    countRequest(stream);
    const ex = new H2Exchange(stream, headers, raw);
    const srv = this.serverOf(bind, stream.session?.socket?.localAddress, ex.headers.host);
    ex.bodyLimit = this.limitFor(srv, ex);
    ex.serverBodyTimeout = srv.defaults.engine.clientBodyTimeout;
    this.run(ex, srv, this.group(bind, stream.session?.socket?.localAddress).defaultServer);
  }

  /**
   * client_max_body_size of the location the URI maps to, the limit a chunked body is held to; a
   * Content-Length over it is logged and left to the pipeline's 413 (with error_page).
   */
  private limitFor(srv: ServerConf, ex: HttpExchange): number {
    const limit = locationBodyLimit(srv, ex.url);
    const cl = ex.headers['content-length'];
    if (limit > 0 && cl !== undefined && Number(cl) > limit) {
      this.log.bytes('error', `client intended to send too large body: ${String(cl)} bytes${frontContext(ex, srv)}`);
      ex.bodyTooLarge = true;
    }
    return limit;
  }

  private run(ex: HttpExchange, srv: ServerConf, dflt: ServerConf): void {
    try {
      this.handle(ex, srv, dflt);
    } catch (e) {
      this.log.error(`handler failed: ${(e as Error)?.stack ?? String(e)}`);
      if (!ex.headersSent) ex.writeHead(500, [['Content-Length', '0']]);
      ex.end();
    }
  }

  /** Opens every TLS listen socket; rejects with TRESTY_ERR_LISTEN. */
  async listen(): Promise<void> {
    await Promise.all(this.entries.map((e) => new Promise<void>((resolve, reject) => {
      const { bind, server } = e;
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(new TrestyError('TRESTY_ERR_LISTEN', `bind() to ${bindName(bind)} failed (${err.code ?? 'error'}: ${err.message})`, { cause: err }));
      };
      server.once('error', onError);
      const given = this.fds.find((f) => f.key === bindKey(bind));
      const opts = given ? { fd: given.fd } : { port: bind.port, host: bind.host === '' ? '0.0.0.0' : bind.host, ipv6Only: bind.host.includes(':') };
      server.listen(opts, () => {
        server.off('error', onError);
        server.on('error', (err) => this.log.error(`tls server: ${err.message}`));
        resolve();
      });
    })));
  }

  addresses(): string[] {
    return this.entries.map(({ server }) => {
      const a = server.address();
      return typeof a === 'object' && a ? bindName({ host: a.address, port: a.port }) : String(a);
    });
  }

  /**
   * Graceful stop: accept nothing new; HTTP/2 sessions get a GOAWAY and finish their streams;
   * HTTP/1 answers close their connections, idle ones are closed after a grace period.
   * Resolves when no TLS connection is left.
   */
  async drain(closed: () => Promise<void> = async () => {}): Promise<void> {
    this.draining = true;
    for (const { server } of this.entries) server.close();
    for (const s of this.sessions) s.close();
    await closed();
    let timer: NodeJS.Timeout | undefined;
    const grace = setTimeout(() => {
      timer = setInterval(() => { for (const { h1 } of this.entries) h1.closeIdleConnections(); }, 50);
    }, IDLE_GRACE_MS);
    try {
      if (this.sockets.size > 0) await new Promise<void>((r) => { this.onEmpty = r; });
    } finally {
      clearTimeout(grace);
      clearInterval(timer);
    }
  }

  closeNow(): void {
    for (const { server } of this.entries) server.close();
    for (const s of this.sockets) s.destroy();
  }
}

/** The SETTINGS a server's HTTP/2 connections announce (http2_max_concurrent_streams,
 *  http2_body_preread_size). */
function h2Settings(srv: ServerConf): http2.Settings {
  const e = srv.defaults.engine;
  return { maxConcurrentStreams: e.http2MaxConcurrentStreams, initialWindowSize: e.http2BodyPrereadSize };
}
