// The `ngx` object handlers receive: one per handler run (a request phase, a timer, init), made
// of prototype methods over that run's context, with ngx.var, ngx.header, ngx.req... built on
// first touch.

import { TrestyError } from '../errors.js';
import { type Call, currentCall, EXITED, LIVE } from '../request/call.js';
import { apiDisabled } from '../request/context.js';
import { emit, emitFlush, queueFlush } from '../request/output.js';
import { headersOf } from '../request/headers.js';
import { INTERRUPT } from '../request/interrupt.js';
import { BUFFERING, failed, OUTPUT_ERROR, outcome, outError, type OutResult, RAW_TAKEN, refusal, SEEN_EOF, SENT } from '../request/out-result.js';
import { logRun, logReq } from '../request/report.js';
import type { Req } from '../request/req.js';
import { capture, captureMulti, type CaptureOptions, type CaptureResult } from './subrequest.js';
import { CONSTANTS, type NgxConstants } from './constants.js';
import { CTX, MASK } from './context.js';
import { guard, guardReq } from './guard.js';
import { headerProxy, type HeaderValue } from './headers.js';
import { respHeaders, sentDefault } from './resp-headers.js';
import { holdCall } from './hold.js';
import { ReqApi } from './req.js';
import { cookieTime, httpTime, parseHttpTime, timeArg } from './http-date.js';
import { bytesOf } from '../request/bytes.js';
import { localtime, today, utctime } from './time.js';
import { timerApi, type TimerApi } from './timer.js';
import { varProxy } from './vars.js';
import { encodeArgs } from './args.js';
import { UTIL, type NgxUtil } from './util.js';
import { RE, type NgxRe } from './re.js';
import type { FfiPlugin, PluginOptions } from '../ffi/index.js';
import { RequestFfi } from './ffi.js';
import { killThread, type LightThread, startThread, type ThreadResult, waitThreads } from './thread.js';
import { sharedDicts, type SharedDicts } from '../shared/index.js';
import { socketApi, type NgxSocket } from './socket.js';

/** ngx.STDERR (0) .. ngx.DEBUG (8) as error_log levels; STDERR is written as `notice`. */
const NGX_LEVELS = ['notice', 'emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug'] as const;

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
const BUFFERED: Promise<OutResult> = Promise.resolve(failed(BUFFERING));
const SEEN: Promise<OutResult> = Promise.resolve(failed(SEEN_EOF));
const NOTHING: Promise<OutResult> = Promise.resolve(failed('nothing to flush'));
const DONE: Promise<OutResult> = Promise.resolve(SENT);

/** outcome(r) as a promise, the shared one when it went out. */
function settled(r: Req): Promise<OutResult> {
  const o = outcome(r);
  return o === SENT ? DONE : Promise.resolve(o);
}

/** Lua's tostring for ngx.say/print: arrays are flattened, null and undefined print `nil`. */
function text(args: unknown[]): string {
  let s = '';
  for (const a of args) {
    if (typeof a === 'string') s += a;
    else if (Array.isArray(a)) s += text(a);
    else if (a instanceof Uint8Array) s += Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('utf8');
    else if (a === null || a === undefined) s += 'nil';
    else s += String(a);
  }
  return s;
}

export interface NgxWorker { id(): number; count(): number; pid(): number; exiting(): boolean }
export interface NgxLocation {
  capture(uri: string, options?: CaptureOptions): Promise<CaptureResult>;
  capture_multi(requests: ReadonlyArray<readonly [string, CaptureOptions?] | [string]>): Promise<CaptureResult[]>;
}
export interface NgxThread {
  /** Runs `fn(...args)` now as a light thread; the handler waits for it before it ends. */
  spawn(fn: (...args: any[]) => unknown, ...args: unknown[]): LightThread; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Waits for the first of `threads` to end: [true, value], [false, error] or [null, 'already waited or killed']. */
  wait(...threads: LightThread[]): Promise<ThreadResult | [null, string]>;
  /** Stops waiting for `thread`: [true, null], or [null, 'already terminated' | 'already waited or killed']. */
  kill(thread: LightThread): [true, null] | [null, string];
}

/** Lua's type names, for OpenResty's argument messages. */
function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  return typeof v === 'object' ? 'table' : typeof v;
}

function badArg(n: number, fn: string, expected: string, v: unknown): TrestyError {
  return new TrestyError('TRESTY_ERR_API_ARGS', `bad argument #${n} to '${fn}' (${expected} expected, got ${typeName(v)})`);
}

/** The bytes OpenResty refuses in a redirect URI (control characters), as `\xHH` in its message. */
// eslint-disable-next-line no-control-regex
const UNSAFE_URI = /[\x00-\x1f\x7f]/;

function unsafeUri(uri: string): TrestyError | null {
  const m = UNSAFE_URI.exec(uri);
  if (m === null) return null;
  const hex = (c: string): string => c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
  // eslint-disable-next-line no-control-regex
  const shown = uri.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${hex(c)}`);
  return new TrestyError('TRESTY_ERR_API_ARGS', `unsafe byte "0x${hex(m[0]).toLowerCase()}" in redirect uri "${shown}"`);
}

/** The handler run behind an ngx object (for tresty's own modules, such as rack). */
let callOfNgx: (n: Ngx) => Call;

export interface Ngx extends NgxConstants, NgxUtil {
  /** ngx.re.match / find / gmatch / sub / gsub over JavaScript's RegExp. */
  readonly re: NgxRe;
}
export class Ngx {
  readonly #c: Call;
  #var: Record<string, string | undefined> | undefined;
  #header: Record<string, HeaderValue | undefined> | undefined;
  #req: ReqApi | undefined;
  #worker: NgxWorker | undefined;
  #timer: TimerApi | undefined;
  #thread: NgxThread | undefined;
  #location: NgxLocation | undefined;
  #ffi: RequestFfi | undefined;
  #socket: NgxSocket | undefined;

  static {
    callOfNgx = (n) => n.#c;
  }

  constructor(c: Call) { this.#c = c; }

  // --- output (rewrite, access, content) ---
  // Each returns [true, null] or [null, err] with lua-nginx-module's words (request/out-result.ts).
  say(...args: unknown[]): OutResult {
    const r = guardReq(this.#c, MASK.output);
    const no = refusal(r);
    if (no !== null) return failed(no);
    r.lengthless = true;
    emit(r, `${text(args)}\n`);
    return r.outErr === null ? SENT : failed(r.outErr);
  }
  /** Like say without the newline; a single Uint8Array is sent as bytes. */
  print(...args: unknown[]): OutResult {
    const r = guardReq(this.#c, MASK.output);
    const no = refusal(r);
    if (no !== null) return failed(no);
    r.lengthless = true;
    const a = args[0];
    emit(r, args.length === 1 && a instanceof Uint8Array ? a : text(args));
    return r.outErr === null ? SENT : failed(r.outErr);
  }
  /** Sends the buffered output now; the promise resolves once it is handed to the socket. */
  flush(wait?: boolean): Promise<OutResult> {
    const r = guardReq(this.#c, MASK.output);
    const no = refusal(r);
    if (no !== null) return Promise.resolve(failed(no));
    // lua-nginx-module has "nothing to flush" before the head went out (which stays open) and,
    // without wait, before any body bytes (observed on nginx + lua; before "buffering").
    if (!r.headerSent || (!r.seenBody && wait !== true)) return NOTHING;
    // HTTP/1.0 answers are buffered whole to go with a length (lua_http10_buffering): a flush
    // does nothing there, unless the handler set a Content-Length (observed on nginx + lua).
    if (r.ex.httpVersion === '1.0' && r.parent === null && !r.ex.headersSent && !(r.headers?.has('content-length') ?? false)) return BUFFERED;
    // lua-nginx-module's flush buffer goes through the body filters once the head is out and
    // body bytes were (or with wait): an empty call of body_filter.
    emitFlush(r);
    r.lengthless = true;
    const p = queueFlush(r, false);
    if (p === undefined) {
      r.ex.push?.();
      return settled(r);
    }
    return p.then(() => {
      r.ex.push?.();
      return outcome(r);
    });
  }
  /**
   * Sends the response head now (status and headers as set so far), as nginx does: held back
   * until the first body bytes or a flush; a second call does nothing. [null, err] when the
   * head cannot go (a failed header_filter, the client gone).
   */
  send_headers(): OutResult {
    const r = guardReq(this.#c, MASK.output);
    if (r.headerSent) return SENT;
    r.headerSent = true;
    r.lengthless = true;
    r.headAlone = true;
    void queueFlush(r, false);
    // nginx's say after it still returns 1 (observed): the failure is this call's only.
    return r.cut || outError(r) !== null ? failed(OUTPUT_ERROR) : SENT;
  }
  /** Ends the response body now; the handler may go on (e.g. to do work after replying). */
  eof(): Promise<OutResult> {
    const r = guardReq(this.#c, MASK.output);
    if (r.raw !== null) return Promise.resolve(failed(RAW_TAKEN));
    if (r.eofCalled) return SEEN;
    // A HEAD whose head went out ended there for lua-nginx-module: "seen eof", the end still sent.
    const headOnly = r.method === 'HEAD' && r.headerSent && r.parent === null;
    r.eofCalled = true;
    const early = r.filterBroke ? null : outError(r);
    if (early !== null) return Promise.resolve(failed(early));
    r.headerSent = true;
    r.lengthless = true;
    const p = queueFlush(r, true);
    if (p === undefined) return headOnly ? SEEN : settled(r);
    return p.then(() => (headOnly ? failed(SEEN_EOF) : outcome(r)));
  }

  /**
   * Leaves the handler (and its light threads) at once: status >= 200 ends the request,
   * ngx.OK ends only this phase. Every later call through this ngx leaves again, so a `catch`
   * cannot swallow it.
   */
  exit(status: number): never {
    const c = guard(this.#c, MASK.exit);
    if (typeof status !== 'number' || !Number.isInteger(status)) throw badArg(1, 'exit', 'number', status);
    if (status === CONSTANTS.AGAIN || status === CONSTANTS.DONE) {
      throw new TrestyError('TRESTY_ERR_API_ARGS', "bad argument to 'ngx.exit': does not accept NGX_AGAIN or NGX_DONE");
    }
    const r = c.req;
    if (r !== null && (c.phase & (MASK.output | CTX.header_filter)) !== 0) {
      r.exitCode = status;
      // lua gives the answer an error code as its status when it has none yet, so an
      // `error_page 404 = /h` target answers 404 and reads it in ngx.status (observed on 1.22)
      if (status >= 300 && r.status === 0 && !r.headerSent && (c.phase & MASK.output) !== 0) r.status = status;
    }
    leave(c);
  }

  redirect(uri: string, status = 302): never {
    const c = guard(this.#c, MASK.output);
    const r = c.req!;
    if (typeof uri !== 'string') throw badArg(1, 'redirect', 'string', uri);
    if (!REDIRECT_CODES.has(status)) {
      throw new TrestyError('TRESTY_ERR_API_ARGS', `only ngx.HTTP_MOVED_TEMPORARILY, ngx.HTTP_MOVED_PERMANENTLY, ngx.HTTP_PERMANENT_REDIRECT, ngx.HTTP_SEE_OTHER, and ngx.HTTP_TEMPORARY_REDIRECT are allowed`);
    }
    const unsafe = unsafeUri(uri);
    if (unsafe !== null) throw unsafe;
    if (r.headerSent) throw new TrestyError('TRESTY_ERR_HEADERS_SENT', 'attempt to call ngx.redirect after sending out the headers');
    // As OpenResty: the URI is sent as given (a relative one stays relative), in a Location line
    // of its own (one the handler set stays too).
    headersOf(r).add('Location', uri);
    // in nginx's header list, after Connection (http/head-order.ts)
    if (r.parent === null) r.ex.lateLocation = true;
    r.exitCode = status;
    leave(c);
  }

  /** Internal redirect to a URI or `@named` location; ngx.ctx starts empty there. */
  exec(uri: string, args?: string | Record<string, unknown>): never {
    const c = guard(this.#c, MASK.output);
    const r = c.req!;
    if (r.headerSent) throw new TrestyError('TRESTY_ERR_HEADERS_SENT', 'attempt to call ngx.exec after sending out response headers');
    if (typeof uri !== 'string' || uri === '') throw new TrestyError('TRESTY_ERR_API_ARGS', 'ngx.exec: uri must be a non-empty string');
    r.execUri = uri;
    r.execArgs = args === undefined ? null : typeof args === 'string' ? args : encodeArgs(args);
    leave(c);
  }

  /** Runs `cb` (as a light thread of this handler) if the client goes away before the response ends. */
  on_abort(cb: () => unknown): true {
    const c = guard(this.#c, MASK.output);
    if (typeof cb !== 'function') throw badArg(1, 'on_abort', 'function', cb);
    c.req!.ex.onAbort(() => {
      if (c.state !== LIVE) return;
      // nginx's line when lua_check_client_abort sees the close (tresty's on_abort always does);
      // HTTP/2's is the reset's own, logged by the exchange
      if (c.req!.ex.httpVersion !== '2.0') logReq(c.req!, 'info', 'client prematurely closed connection');
      startThread(c, cb, []);
    });
    return true;
  }

  /** Resolves after `seconds` without blocking the worker. */
  sleep(seconds: number): Promise<void> {
    guard(this.#c, MASK.sleep);
    if (typeof seconds !== 'number' || Number.isNaN(seconds)) throw badArg(1, 'sleep', 'number', seconds);
    if (seconds < 0) throw new TrestyError('TRESTY_ERR_API_ARGS', `invalid sleep duration "${Math.round(seconds * 1000)}"`);
    return new Promise((res) => setTimeout(res, seconds * 1000));
  }

  log(level: number, ...args: unknown[]): void {
    const c = guard(this.#c, MASK.all);
    const name = NGX_LEVELS[level];
    if (name === undefined) throw new TrestyError('TRESTY_ERR_API_ARGS', `bad log level: ${String(level)}`);
    if (!c.w.errorLog.enabled(name)) return;
    // init_by_js's re-run in a worker (Node cannot fork the master's state): the master's run
    // logged these lines already, and nginx, which runs it once, logs them once.
    if (c.phase === CTX.init && c.w.id >= 0) return;
    const msg = `[js] ${callerOf()}${text(args)}`;
    logRun(c, name, msg);
  }

  // --- state ---
  get ctx(): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const c = guard(this.#c, MASK.ctx);
    return (c.ctx ??= {});
  }
  set ctx(v: Record<string, unknown>) { guard(this.#c, MASK.ctx).ctx = v; }

  get var(): Record<string, string | undefined> {
    const r = guardReq(this.#c, MASK.request);
    return (this.#var ??= varProxy(r, () => guardReq(this.#c, MASK.request)));
  }

  get status(): number {
    const r = guardReq(this.#c, MASK.request);
    return r.errStatus || r.status;
  }
  set status(v: number) {
    const c = guard(this.#c, MASK.request & ~(CTX.log | CTX.balancer));
    const r = c.req;
    if (r === null) throw apiDisabled(c.phase);
    if (r.headerWritten || (r.headerSent && c.phase !== CTX.header_filter)) {
      logReq(r, 'error', 'attempt to set ngx.status after sending out response headers');
      return;
    }
    r.status = Number(v) | 0;
  }

  get header(): Record<string, HeaderValue | undefined> {
    const r = guardReq(this.#c, MASK.header);
    return (this.#header ??= headerProxy(
      () => r.headers,
      (write) => {
        const c = guard(this.#c, write ? MASK.header & ~CTX.log : MASK.header);
        if (c.req === null) throw apiDisabled(c.phase);
        if (write && (r.headerWritten || (r.headerSent && c.phase !== CTX.header_filter))) {
          logReq(r, 'error', 'attempt to set ngx.header.HEADER after sending out response headers');
          return false;
        }
        return true;
      },
      () => headersOf(r),
      (name) => sentDefault(r, name.toLowerCase()),
    ));
  }

  /** ngx.resp.get_headers(max = 100, raw = false): the response headers so far (resp-headers.ts). */
  get resp(): { get_headers(max?: number, raw?: boolean): Record<string, HeaderValue> } {
    const r = guardReq(this.#c, MASK.header);
    return { get_headers: (max?: number, raw?: boolean) => { guardReq(this.#c, MASK.header); return respHeaders(r, max ?? 100, raw === true); } };
  }

  get req(): ReqApi {
    guardReq(this.#c, MASK.request);
    return (this.#req ??= new ReqApi(this.#c));
  }

  /** set_by_js: the directive's arguments; body_filter_by_js: [, chunk, eof]. 1-based, as in Lua. */
  get arg(): unknown[] {
    const r = guardReq(this.#c, MASK.arg);
    return r.arg ?? [];
  }

  get location(): NgxLocation {
    const r = guardReq(this.#c, MASK.output);
    return (this.#location ??= {
      capture: (uri, options) => { guardReq(this.#c, MASK.output); return capture(r, uri, options); },
      capture_multi: (reqs) => { guardReq(this.#c, MASK.output); return captureMulti(r, reqs); },
    });
  }

  get thread(): NgxThread {
    guard(this.#c, MASK.thread);
    return (this.#thread ??= {
      spawn: (fn, ...args) => {
        const c = guard(this.#c, MASK.thread);
        if (typeof fn !== 'function') throw badArg(1, 'spawn', 'function', fn);
        return startThread(c, fn, args);
      },
      wait: (...threads) => { guard(this.#c, MASK.thread); return waitThreads(threads); },
      kill: (t) => { guard(this.#c, MASK.thread); return killThread(t); },
    });
  }

  get worker(): NgxWorker {
    guard(this.#c, MASK.worker);
    const w = this.#c.w;
    return (this.#worker ??= {
      id: () => w.id, count: () => w.count, pid: () => process.pid, exiting: () => w.exiting,
    });
  }

  get timer(): TimerApi {
    guard(this.#c, MASK.timer);
    return (this.#timer ??= timerApi(this.#c));
  }

  /** ngx.socket.tcp() / ngx.socket.connect(): cosockets (socket.ts); each call checks its phase. */
  get socket(): NgxSocket {
    return (this.#socket ??= socketApi(this.#c));
  }

  // --- time ---
  now(): number { guard(this.#c, MASK.time); return Date.now() / 1000; }
  time(): number { guard(this.#c, MASK.time); return Math.floor(Date.now() / 1000); }
  today(): string { guard(this.#c, MASK.time); return today(); }
  update_time(): void { guard(this.#c, MASK.time); }
  localtime(): string { guard(this.#c, MASK.time); return localtime(); }
  utctime(): string { guard(this.#c, MASK.time); return utctime(); }
  http_time(sec: number): string { return httpTime(timeArg(sec)); }
  cookie_time(sec: number): string { return cookieTime(timeArg(sec)); }
  parse_http_time(s: string): number | null {
    if (typeof s !== 'string') throw new TrestyError('TRESTY_ERR_API_ARGS', 'string argument only');
    return parseHttpTime(bytesOf(s));
  }

  // --- FFI (src/ffi) ---
  /** Loads a native runtime (once per worker) and returns its plugin: `await plugin.call(req)`. */
  load_ffi(lib: string, cfg?: string | null, opts?: PluginOptions): FfiPlugin {
    const c = guard(this.#c, MASK.ffi);
    const ffi = c.w.ffi;
    if (ffi === null) throw new TrestyError('TRESTY_ERR_FFI_UNAVAILABLE', 'ngx.load_ffi: the FFI module is not available in this build');
    const p = ffi.load(lib, cfg, opts);
    const r = c.req;
    return r ? (this.#ffi ??= new RequestFfi(r)).bind(p) : p;
  }
  /** The plugins of the conf's ffi_plugin blocks, by name; in a request, calls end with it. */
  get ffi(): Record<string, FfiPlugin> {
    const c = guard(this.#c, MASK.ffi);
    const plugins = c.w.ffi?.plugins ?? {};
    const r = c.req;
    return r ? (this.#ffi ??= new RequestFfi(r)).plugins(plugins) : plugins;
  }

  /** ngx.shared.NAME: the js_shared_dict zones (src/shared); init_by_js's re-run in a worker only reads them. */
  get shared(): SharedDicts { const c = guard(this.#c, MASK.all); return sharedDicts(c.phase === CTX.init && c.w.id >= 0); }

  /** True once the response headers are sent (or about to be, after the first output). */
  get headers_sent(): boolean { return guardReq(this.#c, MASK.request).headerSent; }
  get is_subrequest(): boolean { return guardReq(this.#c, MASK.request).parent !== null; }

  get config(): { subsystem: 'http'; prefix(): string; debug: boolean; ngx_lua_version: number; nginx_configure(): string } {
    const prefix = this.#c.w.conf.prefix;
    return { subsystem: 'http', prefix: () => `${prefix}/`, debug: false, ngx_lua_version: 0, nginx_configure: () => '' };
  }
}

/** ngx.exit / exec / redirect: the run is over; a light thread or abort callback ends it at once. */
function leave(c: Call): never {
  c.state = EXITED;
  const wake = c.wake;
  if (wake !== null) {
    c.wake = null;
    wake();
  }
  throw INTERRUPT;
}

Object.assign(Ngx.prototype, CONSTANTS, UTIL, { re: RE });

/**
 * What tresty/rack finds the running request with. Keyed by global symbols, not imports, so a
 * copy of tresty/rack from another install (an app's node_modules) works with this server.
 */
const RACK_HOLD = Symbol.for('tresty.holdRequest');
const RACK_CURRENT = Symbol.for('tresty.currentNgx');
Object.defineProperty(Ngx.prototype, RACK_HOLD, {
  value<T>(this: Ngx, p: Promise<T>): Promise<T> { return holdRequest(this, p); },
});
(globalThis as Record<symbol, unknown>)[RACK_CURRENT] = (): Ngx | null => currentNgx();

/** The ngx object of a handler run, made on first use. */
export function ngxOf(c: Call): Ngx {
  return (c.api ??= new Ngx(c)) as Ngx;
}

/** The ngx of the handler whose synchronous part is running now, or null. */
export function currentNgx(): Ngx | null {
  const c = currentCall;
  return c === null ? null : ngxOf(c);
}

/**
 * Keeps the handler run of `ngx` (and so its request) open until `p` settles (holdCall, hold.ts).
 * For tresty/rack's execute() and respond(), which a handler may forget to await.
 */
export function holdRequest<T>(ngx: unknown, p: Promise<T>): Promise<T> {
  return ngx instanceof Ngx ? holdCall(callOfNgx(ngx), p) : p;
}

/** `file:line: ` of the handler line that called ngx.log (only when the line is written). */
function callerOf(): string {
  const stack = new Error().stack?.split('\n')[3] ?? '';
  const m = /\(?((?:file:\/\/)?[^()\s]+:\d+):\d+\)?$/.exec(stack);
  return m ? `${m[1].replace(/^file:\/\//, '')}: ` : '';
}

export type { Req };
