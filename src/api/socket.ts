// ngx.socket.tcp: OpenResty's cosocket over node:net. Lua's multiple returns are arrays
// ([data, err, partial]), its yields promises. A network failure is a value (OpenResty's error
// text: "timeout", "closed", "connection refused"), never a throw; bad arguments and misuse
// (another request's socket, a phase where cosockets are disabled) throw, as they raise Lua
// errors in OpenResty.
//
// A receive that meets the peer's end or a reset closes the reading side only, as
// lua-nginx-module's: receives then give "closed", while send (to a half-closed peer; "broken pipe"
// after a reset), close, getreusedtimes still work on the connection.
//
// A socket belongs to the request (or timer / ssl_certificate run) that made it: it is closed,
// not pooled, when that ends, and using it from anywhere else throws "bad request".

import type { Call } from '../request/call.js';
import type { Req } from '../request/req.js';
import { resolveHost } from '../request/resolver.js';
import { MASK } from './context.js';
import { guard } from './guard.js';
import { Conn, openConn, SslSession, type Target, upgradeTls } from './socket-conn.js';
import { DEFAULT_KEEPALIVE_MS, DEFAULT_POOL_SIZE, ensurePool, putIdle, queueFor, takeIdle, track } from './socket-pool.js';
import { argErr, hostPort, receiveanyMax, receivePattern, sendChunks, timeoutArg, typeName } from './socket-args.js';
import { SocketOwner } from './socket-owner.js';
import { UdpSocket } from './socket-udp.js';
import { untilFrom, untilSize, type ReadResult, type Data, type UntilIterator } from './socket-until.js';

/** lua_socket_connect_timeout / send_timeout / read_timeout's default (tresty has no such directives). */
export const DEFAULT_TIMEOUT_MS = 60_000;

export type OkResult = [true, null] | [null, string];
export type { Data, ReadResult, UntilIterator };

export interface ConnectOptions { pool?: string; pool_size?: number; backlog?: number }
export interface TcpOptions {
  /** Receive methods return Uint8Array (Buffer) instead of UTF-8 strings. */
  binary?: boolean;
}

export class TcpSocket {
  readonly #owner: SocketOwner;
  readonly #binary: boolean;
  #conn: Conn | null = null;
  #connecting = false;
  #writing = false;
  /** @internal */ reading = false;
  /** @internal A receive met the end of the peer's data or a failure: receives give "closed". */
  readClosed = false;
  // 0: the default (OpenResty's settimeout(0) also means "the conf's value").
  #connectMs = 0;
  #sendMs = 0;
  #readMs = 0;

  /** @internal `call`: the context it is made in (see SocketOwner). */
  constructor(call: Call, opts?: TcpOptions) {
    this.#owner = new SocketOwner(call, () => this.lose());
    this.#binary = opts?.binary === true;
  }

  /** @internal Throws unless the running code may use this socket now (SocketOwner.check). */
  check(): void { this.#owner.check(); }

  /** @internal */ get conn(): Conn | null { return this.#conn; }
  /** @internal */ get readMs(): number { return this.#readMs || DEFAULT_TIMEOUT_MS; }

  /** @internal A receive saw the connection fail: OpenResty closes it. */
  lose(): void {
    this.#conn?.destroy();
    this.#conn = null;
  }

  /** @internal */
  out(b: Buffer): Data { return this.#binary ? b : b.toString('utf8'); }

  /**
   * connect(host, port, opts?) or connect('unix:/path', opts?). A connection of the same pool
   * idle in the worker's pool is reused; a connected socket closes its connection first.
   */
  async connect(host: string, port?: number | ConnectOptions, opts?: ConnectOptions): Promise<OkResult> {
    this.check();
    if (typeof host !== 'string') throw argErr(`bad argument #1 to 'connect' (string expected, got ${typeName(host)})`);
    let target: Target | string;
    let key: string;
    if (host.startsWith('unix:')) {
      // A number there is a port nginx + lua ignores for a unix socket (the options come third).
      if (typeof port === 'object' && port !== null) opts = port;
      else if (port !== undefined && typeof port !== 'number') throw argErr(`bad argument #2 to 'connect' (table expected, got ${typeName(port)})`);
      const path = host.slice(5);
      target = path === '' ? 'failed to parse host name "unix:": no path in the unix domain socket' : { path };
      key = host;
    } else {
      if (typeof port !== 'number' || !Number.isInteger(port)) throw argErr(`bad argument #2 to 'connect' (number expected, got ${typeName(port)})`);
      if (port < 0 || port > 65535) throw argErr(`bad port number: ${port}`);
      target = hostPort(host, port);
      key = `${host}:${port}`;
    }
    if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw argErr(`bad argument #3 to 'connect' (table expected, got ${typeName(opts)})`);
    const size = opts?.pool_size;
    if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size <= 0)) throw argErr(`bad "pool_size" option value: ${String(size)}`);
    const backlog = opts?.backlog;
    if (backlog !== undefined && (typeof backlog !== 'number' || !Number.isInteger(backlog) || backlog < 0)) throw argErr(`bad "backlog" option value: ${String(backlog)}`);
    if (opts?.pool !== undefined) {
      if (typeof opts.pool !== 'string') throw argErr(`bad "pool" option type: ${typeName(opts.pool)}`);
      key = opts.pool;
    }
    if (typeof target === 'string') return [null, target]; // nginx's parse error ("" would be localhost to node)
    if (this.#connecting) return [null, 'socket busy connecting'];
    this.#conn?.destroy();
    this.#conn = null;
    if (size !== undefined || backlog !== undefined) ensurePool(key, size ?? DEFAULT_POOL_SIZE);

    const ms = this.#connectMs || DEFAULT_TIMEOUT_MS;
    this.#connecting = true;
    try {
      let c = takeIdle(key);
      if (c === null && backlog !== undefined) {
        const turn = queueFor(key, backlog, ms);
        if (typeof turn === 'string') return [null, turn];
        if (turn !== null && !(await turn)) return [null, 'timeout'];
        c = takeIdle(key);
      }
      if (c === null) {
        const dest = await viaResolver(target, this.#owner.req);
        if (typeof dest === 'string') return [null, dest];
        const got = await openConn(dest, key, ms);
        if (typeof got === 'string') return [null, got];
        c = got;
        track(c);
      }
      if (this.#owner.dead) { c.destroy(); return [null, 'closed']; }
      this.#conn = c;
      this.readClosed = false;
      return [true, null];
    } finally {
      this.#connecting = false;
    }
  }

  /**
   * sslhandshake(reused_session?, server_name?, ssl_verify?): TLS over the connected socket.
   * [session, null] (pass the session back to resume it; `true` when reused_session is false)
   * or [null, err]. A connection already in TLS (one the pool gave back) answers at once.
   */
  async sslhandshake(reused?: SslSession | boolean | null, serverName?: string | null, verify?: boolean | null): Promise<[SslSession | true, null] | [null, string]> {
    this.check();
    if (reused !== undefined && reused !== null && typeof reused !== 'boolean' && !(reused instanceof SslSession)) throw argErr(`bad argument #1 to 'sslhandshake' (session expected, got ${typeName(reused)})`);
    if (serverName !== undefined && serverName !== null && typeof serverName !== 'string') throw argErr(`bad argument #2 to 'sslhandshake' (string expected, got ${typeName(serverName)})`);
    if (verify !== undefined && verify !== null && typeof verify !== 'boolean') throw argErr(`bad argument #3 to 'sslhandshake' (boolean expected, got ${typeName(verify)})`);
    const c = this.#conn;
    if (c === null || c.ended) return [null, 'closed'];
    const answer = (n: Conn): [SslSession | true, null] => [reused === false ? true : (n.session ??= new SslSession()), null];
    if (c.tls) return answer(c);
    if (this.reading) return [null, 'socket busy reading'];
    if (this.#writing) return [null, 'socket busy writing'];
    if (c.q.length > 0) { this.lose(); return [null, 'unread data in buffer']; }
    this.#writing = true;
    try {
      const got = await upgradeTls(c, {
        servername: serverName ?? undefined,
        verify: verify === true,
        session: reused instanceof SslSession ? reused.data ?? undefined : undefined,
      }, this.#connectMs || DEFAULT_TIMEOUT_MS);
      if (this.#conn !== c || this.#owner.dead) {
        if (typeof got !== 'string') got.destroy();
        return [null, 'closed'];
      }
      if (typeof got === 'string') { this.#conn = null; return [null, got]; }
      this.#conn = got;
      return answer(got);
    } finally {
      this.#writing = false;
    }
  }

  /** Sends `data` (string, Uint8Array, or a nested array of those): [bytes, null] or [null, err]. */
  async send(data: unknown): Promise<[number, null] | [null, string]> {
    this.check();
    const c = this.#conn;
    if (c === null) return [null, 'closed']; // before the data's checks, as nginx's
    const parts: Buffer[] = [];
    sendChunks(data, parts);
    if (c.closed || c.error !== null) {
      // The connection failed (a reset): its error if no receive reported it yet, as the kernel
      // gives it to the first call, else "broken pipe"; the socket is closed, as nginx's.
      this.#conn = null;
      c.destroy();
      return [null, c.error === null ? 'closed' : c.errorSeen ? 'broken pipe' : c.error];
    }
    if (this.#writing) return [null, 'socket busy writing'];
    const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (buf.length === 0) return [0, null];
    this.#writing = true;
    try {
      const err = await c.write(buf, this.#sendMs || DEFAULT_TIMEOUT_MS);
      if (err !== null) {
        if (this.#conn === c) this.#conn = null;
        return [null, err];
      }
      return [buf.length, null];
    } finally {
      this.#writing = false;
    }
  }

  /**
   * receive('*l') (the default: a line, without its LF and every CR), receive('*a') (all until
   * the peer closes), receive(n) (exactly n bytes): [data, null, null] or [null, err, partial].
   */
  receive(pattern?: string | number): Promise<ReadResult> {
    this.check();
    const mode = receivePattern(pattern);
    if (mode === 0 && this.#conn !== null && !this.readClosed) return Promise.resolve([this.out(Buffer.alloc(0)), null, null]);
    if (mode === 'l') return readLoop(this, (c) => c.q.takeLine(), (c) => c.q.takeLinePart());
    return readLoop(this, (c) => {
      if (mode === 'a') return c.eof ? c.q.takeAll() : null;
      return c.q.length >= mode ? c.q.take(mode) : null;
    });
  }

  /** Whatever has arrived, at most `max` bytes, waiting for some if none: [data, null] or [null, err]. */
  async receiveany(max: number): Promise<[Data, null] | [null, string]> {
    this.check();
    receiveanyMax(max);
    const [data, err] = await readLoop(this, (c) => (c.q.length > 0 ? c.q.take(Math.min(max, c.q.length)) : null));
    return data !== null ? [data, null] : [null, err!];
  }

  /**
   * An iterator reading up to `pattern`: `await it()` gives the data before it (with it when
   * `inclusive`); `await it(size)` gives `size` bytes per call (more when bytes held as a possible
   * start of the pattern turn out not to be) and [null, null, null] once the pattern was passed
   * (the next call starts over). See socket-until.ts.
   */
  receiveuntil(pattern: string | Uint8Array, opts?: { inclusive?: boolean }): UntilIterator {
    this.check();
    const u = untilFrom(pattern, opts);
    return (size?: number) => {
      this.check();
      const n = untilSize(size);
      if (this.#conn === null || this.readClosed) return Promise.resolve([null, 'closed', null]);
      if (u.takePassed()) return Promise.resolve([null, null, null]);
      u.begin(n);
      return readLoop(this, (c) => u.step(c.q), () => u.partial());
    };
  }

  /** Closes the connection: [true, null] (also after a receive met its end), or [null, 'closed'] when there is none. */
  close(): OkResult {
    this.check();
    const c = this.#conn;
    if (c === null) return [null, 'closed'];
    this.#conn = null;
    c.destroy();
    return [true, null];
  }

  /** Sets the connect, send and read timeouts at once, in ms (0: back to the 60 s default). */
  settimeout(ms: number): void {
    this.check();
    const t = timeoutArg('settimeout', ms);
    this.#connectMs = this.#sendMs = this.#readMs = t;
  }

  settimeouts(connectMs: number, sendMs: number, readMs: number): void {
    this.check();
    this.#connectMs = timeoutArg('settimeouts', connectMs, 1);
    this.#sendMs = timeoutArg('settimeouts', sendMs, 2);
    this.#readMs = timeoutArg('settimeouts', readMs, 3);
  }

  /** 'keepalive' and 'tcp-nodelay' (booleans); other options are not supported. */
  setoption(name: string, value: unknown): OkResult {
    this.check();
    const c = this.#conn;
    if (c === null) return [null, 'closed'];
    if (name === 'keepalive') c.s.setKeepAlive(Boolean(value));
    else if (name === 'tcp-nodelay') c.s.setNoDelay(Boolean(value));
    else return [null, `unsupported option: ${String(name)}`];
    return [true, null];
  }

  /**
   * Puts the connection in the worker's pool for `timeoutMs` (default 60 s; 0: no limit), in a
   * pool of `size` (default 30; fixed when the pool is made). The socket is closed afterwards.
   */
  setkeepalive(timeoutMs?: number, size?: number): OkResult {
    this.check();
    const ms = timeoutMs === undefined || timeoutMs === null ? DEFAULT_KEEPALIVE_MS : timeoutArg('setkeepalive', timeoutMs, 1);
    if (size !== undefined && size !== null && (typeof size !== 'number' || !Number.isInteger(size) || size <= 0)) throw argErr(`bad argument #2 to 'setkeepalive' (pool size must be a positive integer, got ${String(size)})`);
    const c = this.#conn;
    if (c === null || c.closed) { this.#conn = null; return [null, 'closed']; }
    if (this.reading) return [null, 'socket busy reading'];
    if (this.#writing) return [null, 'socket busy writing'];
    if (c.ended) { this.lose(); return [null, 'invalid connection']; }
    if (c.q.length > 0) return [null, 'unread data in buffer']; // the connection stays, as nginx's
    this.#conn = null;
    putIdle(c, ms, size ?? DEFAULT_POOL_SIZE);
    return [true, null];
  }

  /** How many times the pool handed out this connection before: [n, null], or [null, 'closed']. */
  getreusedtimes(): [number, null] | [null, string] {
    this.check();
    const c = this.#conn;
    return c === null ? [null, 'closed'] : [c.reused, null];
  }
}

/**
 * The read loop every receive shares: `step` takes what it needs from the buffer or returns
 * null to wait for more; a failed read returns `partial`'s bytes (by default all buffered). The
 * read timeout counts from the last data received, as nginx's.
 */
async function readLoop(sock: TcpSocket, step: (c: Conn) => Buffer | null, partial = (c: Conn): Buffer => c.q.takeAll()): Promise<ReadResult> {
  const c = sock.conn;
  if (c === null || sock.readClosed) return [null, 'closed', null];
  if (sock.reading) return [null, 'socket busy reading', null];
  sock.reading = true;
  try {
    for (;;) {
      const got = step(c);
      if (got !== null) return [sock.out(got), null, null];
      if (c.ended) {
        const err = c.error ?? 'closed';
        if (c.error !== null) c.errorSeen = true;
        const part = sock.out(partial(c));
        if (sock.conn === c) sock.readClosed = true;
        return [null, err, part];
      }
      if (!(await c.wait(sock.readMs))) return [null, 'timeout', sock.out(partial(c))];
      if (sock.conn !== c) return [null, 'closed', sock.out(Buffer.alloc(0))];
    }
  } finally {
    sock.reading = false;
  }
}

export interface NgxSocket {
  /** A new TCP / unix-socket cosocket of the running request (or timer). */
  tcp(opts?: TcpOptions): TcpSocket;
  /** OpenResty's alias of tcp(): the same function. */
  stream(opts?: TcpOptions): TcpSocket;
  /** A new UDP cosocket (socket-udp.ts). */
  udp(opts?: TcpOptions): UdpSocket;
  /** tcp() and connect() in one: [socket, null] or [null, err]. */
  connect(host: string, port?: number | ConnectOptions, opts?: ConnectOptions): Promise<[TcpSocket, null] | [null, string]>;
}

export function socketApi(c: Call): NgxSocket {
  const make = (opts?: TcpOptions): TcpSocket => {
    const e = guard(c, MASK.socket);
    if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw argErr(`bad argument #1 to 'tcp' (table expected, got ${typeName(opts)})`);
    return new TcpSocket(e, opts);
  };
  return {
    tcp: make,
    stream: make,
    udp: (opts) => {
      const e = guard(c, MASK.socket);
      if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw argErr(`bad argument #1 to 'udp' (table expected, got ${typeName(opts)})`);
      return new UdpSocket(e, opts);
    },
    connect: async (host, port, opts) => {
      const s = make();
      const [ok, err] = await s.connect(host, port, opts);
      return ok ? [s, null] : [null, err!];
    },
  };
}

/** A host name looked up through the request's `resolver`, when its location has one. */
async function viaResolver(target: Target, r: Req | null): Promise<Target | string> {
  const res = r?.loc?.resolver;
  if (!('host' in target) || !res) return target;
  const a = await resolveHost(res, r!.loc.resolverTimeout, target.host, r!.w.errorLog);
  return typeof a === 'string' ? { host: a, port: target.port } : a.error;
}
