// The HTTP front on the native engine: the engine accepts, reads, parses and writes; this file
// turns its batches (layout.ts) into exchanges for the pipeline and routes the body, close and
// drain events to them. One front per worker; it takes the listen sockets the master made.
import type { HttpConf, LocationConf, MainConf, ServerConf } from '../config/types.js';
import { TrestyError } from '../errors.js';
import { engineNumbersConnections, type ErrorLog, utf8Bytes } from '../log/index.js';
import { frontContext } from './front-context.js';
import type { HttpExchange, RequestHandler } from './types.js';
import { bindKey, bindName, type ListenFd } from './binds.js';
import { bodyLimit as locationBodyLimit } from './body-limit.js';
import { requestHost } from './request-host.js';
import { type Bind, firstGroup, groupFor, selectServer, serverName } from './vhost.js';
import type { EngineBinding } from './native-binding.js';
import { closeSync } from 'node:fs';
import { NativeExchange } from './native-exchange.js';
import {
  BODY_END_FRAMING, DATA, DATA_LEN, ERR_DNAME, ERR_HOST_LEN, ERR_LISTENER, ERR_NUMBER, ERR_SRV_LEN, ERR_SRV_OFF, ERR_TEXT, IN_BODY, IN_BODY_END, IN_BODY_ERR, IN_CLOSE, IN_DRAIN, IN_ERRLOG, IN_LOG,
  IN_REQ, IN_WAKE, LOG_LEVELS, REC_A, REC_B, REC_CONN, REC_SIZE, REQ_ADDR_LEN, REQ_CLEN, REQ_CONN_MS, REQ_CONN_REQS, REQ_FIXED, REQ_FLAGS, F_PIPELINED, F_CUT, REQ_HEAD_LEN, REQ_HEAD_SENT,
  REQ_BODY_LEN, REQ_LISTENER, REQ_LOC, REQ_METHOD, REQ_MSEC, REQ_NHEADERS, REQ_NUMBER, REQ_PORT, REQ_SENT, REQ_TARGET, REQ_TARGET_LEN, REQ_VERSION, WHY_HALF, WHY_RESET,
} from './native-layout.js';
import { Outbox } from './native-outbox.js';
import { batchBegins, batchEnds } from './clock.js';
import { enableEngineSockets, upstreamRecord } from './native-upstream.js';
import { errorPage } from './native-pages.js';
import { buildPlan, type NativePlan } from './native-plan.js';
import { setupEngineTls } from './native-tls.js';
import type { CertHook } from '../tls/contexts.js';

const INBOX = 1 << 20;
const OUTBOX = 1 << 20;
/** How long a draining worker keeps idle keep-alive connections (as the node front does). */
const IDLE_GRACE_MS = 1000;

const align8 = (n: number): number => (n + 7) & ~7;
/** A connection id is its slot in the engine (low 24 bits) and a generation (layout.h). */
const SLOT_MASK = 0xffffff;
/** LOG records of refused requests name no location (layout.h TE_LOC_DEFAULT). */
const LOC_DEFAULT = 0xffffffff;
/** parse.h's method ids (REQ records carry it in `a`): the common methods need no new string. */
const METHODS = ['', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT'];


/** What the front needs of the pipeline beyond `handle`: for the answers the engine writes itself. */
export interface NativeHooks {
  /** An answer the engine wrote itself: write its access-log lines. */
  logAnswer?(a: LoggedAnswer): void;
  /** The MIME table static files use besides the conf's `types` (src/phases/mime.ts). */
  builtinTypes?: Readonly<Record<string, string>>;
  /** ssl_certificate_by_js's runner (src/phases/ssl_certificate.ts), null when no server has one. */
  certificate?: CertHook | null;
}

export interface LoggedAnswer {
  /** The engine's exchange, or node:http's refused request (server.ts). */
  readonly ex: HttpExchange & { bytesSent: number };
  readonly server: ServerConf;
  readonly loc: LocationConf;
  readonly status: number;
  /** Body bytes sent. */
  readonly sent: number;
  /** Request time. */
  readonly msec: number;
  /** The answer was cut short (the client went): not a completed request ($request_completion). */
  readonly cut?: boolean;
}

function versionText(v: number): string {
  if (v === 1001) return '1.1';
  if (v === 1000) return '1.0';
  if (v === 9) return '0.9';
  return `${Math.floor(v / 1000)}.${v % 1000}`;
}

export class NativeFront {
  readonly outbox: Outbox;
  draining = false;
  private readonly inbox: Buffer;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  /** The request in flight on each connection, by the connection's slot (id & SLOT_MASK). */
  private readonly active: Array<NativeExchange | undefined> = [];
  private readonly fds: number[] = [];
  private readonly plan: NativePlan | null;
  /** Fds on the engine's epoll for others (FFI doorbells): what to run when each is readable. */
  private readonly watched = new Map<number, { ring: () => void; detached: () => void }>();
  /** Each server's number in the engine's name table (serverOf), and each listener's default. */
  private readonly serverIndex = new Map<ServerConf, number>();
  private readonly listenerServer: ServerConf[] = [];
  /** closeNow ran: the engine's handles are stopped and it watches nothing more. */
  private stopped = false;

  constructor(
    readonly native: EngineBinding,
    private readonly conf: HttpConf,
    readonly binds: readonly Bind[],
    private readonly handle: RequestHandler,
    private readonly log: ErrorLog,
    private readonly events: Pick<MainConf, 'workerConnections' | 'multiAccept'>,
    private readonly given: readonly ListenFd[],
    private readonly hooks: NativeHooks = {},
  ) {
    this.inbox = Buffer.alloc(INBOX);
    this.u16 = new Uint16Array(this.inbox.buffer, this.inbox.byteOffset, INBOX >>> 1);
    this.u32 = new Uint32Array(this.inbox.buffer, this.inbox.byteOffset, INBOX >>> 2);
    this.f64 = new Float64Array(this.inbox.buffer, this.inbox.byteOffset, INBOX >>> 3);
    this.outbox = new Outbox(native, OUTBOX);
    this.plan = hooks.builtinTypes ? buildPlan(conf, hooks.builtinTypes) : null;
  }

  /** Takes the master's sockets (or opens them), then starts the engine on them. */
  async listen(): Promise<void> {
    const { native } = this;
    native.create(this.inbox, this.outbox.buf, this.onBatch, this.events.workerConnections, this.events.multiAccept ? 1 : 0);
    if (native.nextNumber) engineNumbersConnections((floor) => native.nextNumber!(floor));
    enableEngineSockets(native);
    if (this.plan) native.setRoutes!(this.plan.buf);
    if (native.serverNames) {
      this.conf.servers.forEach((s, i) => this.serverIndex.set(s, i));
      native.serverNames(this.conf.servers.map(serverName));
    }
    this.binds.forEach((bind, i) => {
      const key = bindKey(bind);
      let fd = this.given.find((g) => g.key === key)?.fd;
      if (fd === undefined) {
        try {
          fd = native.listen(bind.host, bind.port, 511);
        } catch (e) {
          const err = e as Error & { code?: string };
          throw new TrestyError('TRESTY_ERR_LISTEN', `bind() to ${bindName(bind)} failed (${err.code ?? 'error'}: ${err.message})`, { cause: e });
        }
      }
      this.fds.push(fd);
      // The names error-log lines give as `server:` (native/engine/records.c te_errlog).
      const dflt = firstGroup(bind).defaultServer;
      this.listenerServer[i] = dflt;
      native.addListener(fd, i, listenerSettings(bind), this.plan?.serverFor(bind) ?? -1, serverName(dflt), bindName(bind));
      // `listen P` next to `listen 127.0.0.1:P`: nginx names the address's default server.
      if (bind.any !== null && bind.byAddress.size > 0 && native.addressNames) {
        native.addressNames(i, [...bind.byAddress].map(([host, g]): [string, number] => [host, this.serverIndex.get(g.defaultServer) ?? -1])
          .filter(([, s]) => s >= 0));
      }
    });
    if (this.binds.some((b) => b.ssl)) {
      if (this.serverIndex.size === 0) this.conf.servers.forEach((s, i) => this.serverIndex.set(s, i));
      setupEngineTls(native, this.conf, this.binds, this.serverIndex, this.hooks.certificate ?? null, this.log);
    }
  }

  addresses(): string[] {
    return this.binds.map((b, i) => {
      const a = this.native.fdAddress(this.fds[i]!);
      return a ? bindName({ host: a[0], port: a[1] }) : bindName(b);
    });
  }

  private get(id: number): NativeExchange | undefined {
    const ex = this.active[id & SLOT_MASK];
    return ex !== undefined && ex.id === id ? ex : undefined;
  }

  release(ex: NativeExchange): void {
    const slot = ex.id & SLOT_MASK;
    if (this.active[slot] === ex) this.active[slot] = undefined;
  }

  private readonly onBatch = (bytes: number): void => {
    const ob = this.outbox;
    ob.inBatch = true;
    batchBegins();
    try {
      const buf = this.inbox;
      const u32 = this.u32;
      let p = 0;
      while (p < bytes) {
        const size = u32[(p + REC_SIZE) >>> 2];
        const id = u32[(p + REC_CONN) >>> 2];
        switch (buf[p]) {
          case IN_REQ: this.request(p, id); break;
          case IN_BODY: {
            const ex = this.get(id);
            if (ex) {
              const n = u32[(p + DATA_LEN) >>> 2];
              const b = Buffer.allocUnsafe(n);
              buf.copy(b, 0, p + DATA, p + DATA + n);
              ex.bodyData(b);
            }
            break;
          }
          case IN_BODY_END: this.get(id)?.bodyEnd(u32[(p + BODY_END_FRAMING) >>> 2]!); break;
          case IN_BODY_ERR: {
            const n = u32[(p + DATA_LEN) >>> 2];
            this.get(id)?.bodyFailed(this.u16[(p + REC_B) >>> 1], buf.toString('latin1', p + DATA, p + DATA + n));
            break;
          }
          case IN_CLOSE: {
            const ex = this.get(id);
            if (ex && buf[p + REC_A] === WHY_HALF) {
              ex.halfClosed();
            } else if (ex) {
              this.release(ex);
              ex.gone(this.u16[(p + REC_B) >>> 1]!, buf[p + REC_A] === WHY_RESET, u32[(p + DATA_LEN) >>> 2]!);
            }
            break;
          }
          case IN_DRAIN: this.get(id)?.drained(); break;
          case IN_LOG: this.logged(p, id); break;
          case IN_WAKE: this.watched.get(id)?.ring(); break;
          case IN_ERRLOG: {
            const n = u32[(p + DATA_LEN) >>> 2];
            const num = u32[(p + ERR_NUMBER) >>> 2];
            let text = buf.toString('latin1', p + ERR_TEXT, p + ERR_TEXT + n);
            const listener = this.u16[(p + ERR_LISTENER) >>> 1]!;
            if (listener > 0) text = this.namedServer(text, listener - 1, p);
            this.log.bytes(LOG_LEVELS[buf[p + REC_A]] || 'error', text, num || undefined);
            break;
          }
          default: upstreamRecord(buf[p]!, id, buf, u32, this.u16, p);
        }
        p += size;
      }
    } finally {
      ob.inBatch = false;
      batchEnds();
    }
  };

  /**
   * An engine line about a request refused after its Host was read: nginx had chosen the server
   * by that Host already, so its name replaces the default server's the engine put in.
   */
  private namedServer(text: string, listener: number, p: number): string {
    const bind = this.binds[listener];
    if (!bind) return text;
    const u16 = this.u16;
    const off = u16[(p + ERR_SRV_OFF) >>> 1]!;
    const len = u16[(p + ERR_SRV_LEN) >>> 1]!;
    const hostAt = p + ERR_TEXT + text.length;
    const host = this.inbox.toString('latin1', hostAt, hostAt + u16[(p + ERR_HOST_LEN) >>> 1]!);
    // The group of the address the connection came in on (addressNames), else the listener's.
    const dname = u16[(p + ERR_DNAME) >>> 1]!;
    const dflt = dname > 0 ? this.conf.servers[dname - 1] : undefined;
    const group = (dflt && [...bind.byAddress.values()].find((g) => g.defaultServer === dflt)) || firstGroup(bind);
    const srv = selectServer(group, host);
    return `${text.slice(0, off)}${utf8Bytes(serverName(srv))}${text.slice(off + len)}`;
  }

  /** Builds the exchange of a REQ (or LOG) record. */
  private exchange(p: number, id: number, log = false): { ex: NativeExchange; srv: ServerConf; bind: Bind; clen: number } {
    const buf = this.inbox;
    const u16 = this.u16;
    const u32 = this.u32;
    const listener = u32[(p + REQ_LISTENER) >>> 2];
    const flags = u32[(p + REQ_FLAGS) >>> 2];
    const version = u16[(p + REQ_VERSION) >>> 1];
    const nh = u16[(p + REQ_NHEADERS) >>> 1];
    const clen = this.f64[(p + REQ_CLEN) >>> 3];
    const headLen = u32[(p + REQ_HEAD_LEN) >>> 2];
    const mOff = u16[(p + REQ_METHOD) >>> 1];
    const mLen = u16[(p + REQ_METHOD + 2) >>> 1];
    const tOff = u32[(p + REQ_TARGET) >>> 2];
    const tLen = u32[(p + REQ_TARGET_LEN) >>> 2];
    const aLen = u16[(p + REQ_ADDR_LEN) >>> 1];
    const port = u16[(p + REQ_PORT) >>> 1];
    let q = p + REQ_FIXED;
    const remote = this.remoteText(q, aLen);
    q += align8(aLen);
    const hq = q >>> 1;
    q += align8(nh * 8);
    const head = buf.toString('latin1', q, q + headLen);
    // Header strings are made when a handler asks (most answers need none): keep their offsets.
    const offs: number[] = new Array(nh * 4);
    for (let i = 0; i < nh * 4; i++) offs[i] = u16[hq + i];
    const bind = this.binds[listener]!;
    // A fragment stays: $request_uri keeps it, parseTarget drops it from $uri and $args (nginx).
    const url = head.slice(tOff, tOff + tLen);
    const mid = buf[p + REC_A];
    const method = mid > 0 && mid < METHODS.length ? METHODS[mid]! : head.slice(mOff, mOff + mLen);
    const ex = new NativeExchange(this, id, method, url, versionText(version), head, offs, remote, port, flags, bind, 0);
    ex.connection = u32[(p + REQ_NUMBER) >>> 2];
    ex.connectionRequests = u32[(p + REQ_CONN_REQS) >>> 2];
    ex.connectionAgeMs = u32[(p + REQ_CONN_MS) >>> 2];
    ex.pipelined = (flags & F_PIPELINED) !== 0;
    if (!log) ex.refused = u16[(p + REC_B) >>> 1] as NativeExchange['refused'];
    const group = bind.byAddress.size === 0 ? bind.any! : groupFor(bind, ex.localAddress);
    const srv = group.single ? group.defaultServer : selectServer(group, requestHost(ex.url, ex.headers.host));
    ex.group = group;
    ex.keepaliveMs = srv.defaults.keepaliveTimeout;
    if (clen > 0) ex.contentLength = clen;
    const bodyLen = u32[(p + REQ_BODY_LEN) >>> 2];
    if (bodyLen > 0) {
      const b = Buffer.allocUnsafe(bodyLen);
      buf.copy(b, 0, q + headLen, q + headLen + bodyLen);
      // a LOG's bytes after the head are its TLS session (records.c), a REQ's its body's first
      if (log) ex.loggedTls(b);
      else ex.preread(b);
    }
    return { ex, srv, bind, clen };
  }

  /** The last client address made a string: the next request's is most often the same (a keep-
   *  alive connection's, a busy client's), and comparing its bytes costs less than a new string. */
  private lastRemote = '';

  private remoteText(q: number, n: number): string {
    const last = this.lastRemote;
    const buf = this.inbox;
    if (last.length === n) {
      let i = 0;
      while (i < n && buf[q + i] === last.charCodeAt(i)) i++;
      if (i === n) return last;
    }
    return (this.lastRemote = buf.toString('latin1', q, q + n));
  }

  private request(p: number, id: number): void {
    const { ex, srv, clen } = this.exchange(p, id);
    this.active[id & SLOT_MASK] = ex;
    // The Host chose another server than the listener's default: the engine's lines name it.
    if (srv !== this.listenerServer[this.u32[(p + REQ_LISTENER) >>> 2]!]) {
      const i = this.serverIndex.get(srv);
      if (i !== undefined) this.native.serverOf!(id, i);
    }
    if (ex.hasBody) this.bodyLimit(ex, srv, clen);
    try {
      this.handle(ex, srv, ex.group?.defaultServer);
    } catch (e) {
      this.log.error(`handler failed: ${(e as Error)?.stack ?? String(e)}`);
      if (!ex.headersSent) {
        const page = errorPage(500);
        ex.writeHead(500, [['Content-Type', 'text/html'], ['Content-Length', String(page.length)], ['Connection', 'close']]);
        ex.end(page);
      } else {
        ex.destroy();
      }
    }
  }

  /** client_max_body_size of the location the URI maps to: a Content-Length over it is logged and
   *  left to the pipeline's 413 (with error_page). */
  private bodyLimit(ex: NativeExchange, srv: ServerConf, clen: number): void {
    const limit = locationBodyLimit(srv, ex.url);
    if (limit === 0) return;
    if (clen > limit) {
      this.log.bytes('error', `client intended to send too large body: ${clen} bytes${frontContext(ex, srv)}`);
      ex.bodyTooLarge = true;
    }
    ex.bodyLimit = limit;
  }

  private logged(p: number, id: number): void {
    const plan = this.plan;
    if (!this.hooks.logAnswer || !plan) return;
    const u32 = this.u32;
    const bind = this.binds[u32[(p + REQ_LISTENER) >>> 2]]!;
    const locId = u32[(p + REQ_LOC) >>> 2];
    const { ex } = this.exchange(p, id, true);
    // A refused request (LOC_DEFAULT) is logged with the default server of the address it came
    // in on, as nginx does.
    const server = locId === LOC_DEFAULT ? groupFor(bind, ex.localAddress).defaultServer : plan.servers[plan.serverFor(bind)];
    const loc = locId === LOC_DEFAULT ? server?.defaults : plan.locations[locId];
    if (!server || !loc) return;
    ex.headBytes = u32[(p + REQ_HEAD_SENT) >>> 2];
    this.hooks.logAnswer({ ex, server, loc, status: this.u16[(p + REC_B) >>> 1], sent: u32[(p + REQ_SENT) >>> 2], msec: u32[(p + REQ_MSEC) >>> 2],
      cut: (u32[(p + REQ_FLAGS) >>> 2] & F_CUT) !== 0 });
  }

  /**
   * Graceful stop: accept nothing new (the queue is the master's; other workers take it), let the
   * requests in flight finish with `Connection: close`; idle keep-alive connections get
   * IDLE_GRACE_MS to send one more request, then are closed. Resolves when none is left.
   */
  async drain(closed: () => Promise<void> = async () => {}): Promise<void> {
    this.draining = true;
    this.native.stopAccepting();
    await closed();
    const t0 = Date.now();
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (Date.now() - t0 >= IDLE_GRACE_MS) this.native.closeIdle();
        if (this.native.stats().connections === 0) {
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(check, 50);
      check();
    });
  }

  /**
   * Reads fd in the engine's pass (an FFI plugin's doorbell, src/ffi/bell.ts): `ring` runs inside
   * the batch, so what it settles is answered in the same flush. `detached` runs if the engine
   * stops first. null when the engine cannot watch it, or has stopped (closeNow): a plugin first
   * called after that would wait on an epoll nobody polls.
   */
  watchFd(fd: number, ring: () => void, detached: () => void): { kind: 'engine'; ref(): void; unref(): void; destroy(): void } | null {
    if (this.stopped || !this.native.watch(fd)) return null;
    this.watched.set(fd, { ring, detached });
    return {
      kind: 'engine',
      ref() {}, // the engine's own poll handle keeps the loop alive while it runs
      unref() {},
      destroy: () => {
        if (this.watched.delete(fd)) this.native.unwatch(fd);
        try { closeSync(fd); } catch { /* already closed */ }
      },
    };
  }

  closeNow(): void {
    this.stopped = true;
    const watched = [...this.watched];
    this.watched.clear();
    for (const [fd, w] of watched) {
      this.native.unwatch(fd);
      w.detached();
    }
    for (const ex of this.active) ex?.gone();
    this.active.length = 0;
    this.native.shutdown();
  }
}

/** The engine's settings for a listen socket: its default server's (layout of addListener). */
function listenerSettings(bind: Bind): number[] {
  const group = firstGroup(bind);
  const d = group.defaultServer.defaults;
  const e = d.engine;
  const linger = e.lingeringClose === 'off' ? 0 : e.lingeringTime;
  return [
    e.clientHeaderTimeout, e.clientBodyTimeout, e.sendTimeout, d.keepaliveTimeout, e.keepaliveRequests,
    linger, e.lingeringTimeout, e.resetTimedoutConnection ? 1 : 0, e.clientHeaderBufferSize,
    e.largeClientHeaderBuffers.number, e.largeClientHeaderBuffers.size, e.underscoresInHeaders ? 1 : 0,
    e.ignoreInvalidHeaders ? 1 : 0, e.lingeringClose === 'always' ? 1 : 0,
  ];
}
