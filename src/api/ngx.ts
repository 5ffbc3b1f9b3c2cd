// The `ngx` object handlers receive: one per request (or timer / init context), made of
// prototype methods over the context, with ngx.var, ngx.header, ngx.req... built on first touch.

import { TrestyError } from '../errors.js';
import { emit, headersOf, queueFlush } from '../request/output.js';
import { INTERRUPT } from '../request/interrupt.js';
import { logReq } from '../request/report.js';
import type { BaseCtx, Req } from '../request/req.js';
import { capture, captureMulti, type CaptureOptions, type CaptureResult } from './subrequest.js';
import { CONSTANTS, type NgxConstants } from './constants.js';
import { CTX, MASK } from './context.js';
import { guard, guardReq } from './guard.js';
import { headerProxy, type HeaderValue } from './headers.js';
import { ReqApi } from './req.js';
import { cookieTime, httpTime, localtime, parseHttpTime, today, utctime } from './time.js';
import { timerApi, type TimerApi } from './timer.js';
import { varProxy } from './vars.js';
import { encodeArgs } from './args.js';
import { UTIL, type NgxUtil } from './util.js';
import { RE, type NgxRe } from './re.js';
import type { FfiPlugin, PluginOptions } from '../ffi/index.js';
import { RequestFfi } from './ffi.js';

/** ngx.STDERR (0) .. ngx.DEBUG (8) as error_log levels; STDERR is written as `notice`. */
const NGX_LEVELS = ['notice', 'emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug'] as const;

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
const RESOLVED: Promise<true> = Promise.resolve(true);

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

export interface Ngx extends NgxConstants, NgxUtil {
  /** ngx.re.match / find / gmatch / sub / gsub over JavaScript's RegExp. */
  readonly re: NgxRe;
}
export class Ngx {
  readonly #c: BaseCtx;
  #var: Record<string, string | undefined> | undefined;
  #header: Record<string, HeaderValue | undefined> | undefined;
  #req: ReqApi | undefined;
  #worker: NgxWorker | undefined;
  #timer: TimerApi | undefined;
  #location: NgxLocation | undefined;
  #ffi: RequestFfi | undefined;

  constructor(c: BaseCtx) { this.#c = c; }

  // --- output (rewrite, access, content) ---
  say(...args: unknown[]): true { emit(guardReq(this.#c, MASK.output), `${text(args)}\n`); return true; }
  /** Like say without the newline; a single Uint8Array is sent as bytes. */
  print(...args: unknown[]): true {
    const r = guardReq(this.#c, MASK.output);
    const a = args[0];
    emit(r, args.length === 1 && a instanceof Uint8Array ? a : text(args));
    return true;
  }
  /** Sends the buffered output now; the promise resolves once it is handed to the socket. */
  flush(_wait?: boolean): Promise<true> {
    const r = guardReq(this.#c, MASK.output);
    r.headerSent = true;
    const p = queueFlush(r, false);
    return p === undefined ? RESOLVED : p.then(() => true as const);
  }
  /** Ends the response body now; the handler may go on (e.g. to do work after replying). */
  eof(): Promise<true> {
    const r = guardReq(this.#c, MASK.output);
    r.headerSent = true;
    const p = queueFlush(r, true);
    return p === undefined ? RESOLVED : p.then(() => true as const);
  }

  /** Leaves the handler: status >= 200 ends the request; ngx.OK ends only this phase. */
  exit(status: number): never {
    const c = guard(this.#c, MASK.exit);
    if (typeof status !== 'number') throw new TrestyError('TRESTY_ERR_API_ARGS', 'ngx.exit: status must be a number');
    if (c.req !== null && (c.phase & MASK.output) !== 0) c.req.exitCode = status;
    throw INTERRUPT;
  }

  redirect(uri: string, status = 302): never {
    const r = guardReq(this.#c, MASK.output);
    if (!REDIRECT_CODES.has(status)) {
      throw new TrestyError('TRESTY_ERR_API_ARGS', `only ngx.HTTP_MOVED_TEMPORARILY, ngx.HTTP_MOVED_PERMANENTLY, ngx.HTTP_PERMANENT_REDIRECT, ngx.HTTP_SEE_OTHER, and ngx.HTTP_TEMPORARY_REDIRECT are allowed`);
    }
    if (r.headerSent) throw new TrestyError('TRESTY_ERR_HEADERS_SENT', 'attempt to call ngx.redirect after sending out the headers');
    headersOf(r).set('Location', String(uri));
    r.exitCode = status;
    throw INTERRUPT;
  }

  /** Internal redirect to a URI or `@named` location; ngx.ctx starts empty there. */
  exec(uri: string, args?: string | Record<string, unknown>): never {
    const r = guardReq(this.#c, MASK.output);
    if (r.headerSent) throw new TrestyError('TRESTY_ERR_HEADERS_SENT', 'attempt to call ngx.exec after sending out response headers');
    if (typeof uri !== 'string' || uri === '') throw new TrestyError('TRESTY_ERR_API_ARGS', 'ngx.exec: uri must be a non-empty string');
    if (uri.startsWith('@') && args !== undefined) throw new TrestyError('TRESTY_ERR_API_ARGS', 'ngx.exec: args are not allowed with a named location');
    r.execUri = uri;
    r.execArgs = args === undefined ? null : typeof args === 'string' ? args : encodeArgs(args);
    throw INTERRUPT;
  }

  /** Calls `cb` if the client goes away before the response ends. */
  on_abort(cb: () => void): true {
    const r = guardReq(this.#c, MASK.output);
    if (typeof cb !== 'function') throw new TrestyError('TRESTY_ERR_API_ARGS', 'ngx.on_abort: callback must be a function');
    r.ex.onAbort(cb);
    return true;
  }

  /** Resolves after `seconds` without blocking the worker. */
  sleep(seconds: number): Promise<void> {
    guard(this.#c, MASK.sleep);
    return new Promise((res) => setTimeout(res, Math.max(0, seconds * 1000)));
  }

  log(level: number, ...args: unknown[]): void {
    const c = guard(this.#c, MASK.all);
    const name = NGX_LEVELS[level];
    if (name === undefined) throw new TrestyError('TRESTY_ERR_API_ARGS', `ngx.log: bad log level: ${level}`);
    if (!c.w.errorLog.enabled(name)) return;
    const msg = `[js] ${callerOf()}${text(args)}`;
    if (c.req !== null) logReq(c.req, name, msg);
    else c.w.errorLog.log(name, msg);
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
    return r.status;
  }
  set status(v: number) {
    const r = guardReq(this.#c, MASK.request & ~(CTX.log | CTX.balancer));
    if (r.headerWritten || (r.headerSent && r.phase !== CTX.header_filter)) {
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
        guardReq(this.#c, write ? MASK.header & ~CTX.log : MASK.header);
        if (write && (r.headerWritten || (r.headerSent && r.phase !== CTX.header_filter))) {
          logReq(r, 'error', 'attempt to set ngx.header.HEADER after sending out response headers');
          return false;
        }
        return true;
      },
      () => headersOf(r),
    ));
  }

  /** ngx.resp.get_headers(): the response headers so far, lower-cased names. */
  get resp(): { get_headers(): Record<string, HeaderValue> } {
    const r = guardReq(this.#c, MASK.header);
    return { get_headers: () => { guardReq(this.#c, MASK.header); return r.headers?.toObject() ?? {}; } };
  }

  get req(): ReqApi {
    const r = guardReq(this.#c, MASK.request);
    return (this.#req ??= new ReqApi(r));
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

  // --- time ---
  now(): number { guard(this.#c, MASK.time); return Date.now() / 1000; }
  time(): number { guard(this.#c, MASK.time); return Math.floor(Date.now() / 1000); }
  today(): string { guard(this.#c, MASK.time); return today(); }
  update_time(): void { guard(this.#c, MASK.time); }
  localtime(): string { guard(this.#c, MASK.time); return localtime(); }
  utctime(): string { guard(this.#c, MASK.time); return utctime(); }
  http_time(sec: number): string { return httpTime(sec); }
  cookie_time(sec: number): string { return cookieTime(sec); }
  parse_http_time(s: string): number | null { return parseHttpTime(s); }

  // --- FFI (src/ffi) ---
  /** Loads a native runtime (once per worker) and returns its plugin: `await plugin.call(req)`. */
  load_ffi(lib: string, cfg?: string | null, opts?: PluginOptions): FfiPlugin {
    const ffi = guard(this.#c, MASK.ffi).w.ffi;
    if (ffi === null) throw new TrestyError('TRESTY_ERR_FFI_UNAVAILABLE', 'ngx.load_ffi: the FFI module is not available in this build');
    const p = ffi.load(lib, cfg, opts);
    const r = this.#c.req;
    return r ? (this.#ffi ??= new RequestFfi(r)).bind(p) : p;
  }
  /** The plugins of the conf's ffi_plugin blocks, by name; in a request, calls end with it. */
  get ffi(): Record<string, FfiPlugin> {
    const plugins = guard(this.#c, MASK.ffi).w.ffi?.plugins ?? {};
    const r = this.#c.req;
    return r ? (this.#ffi ??= new RequestFfi(r)).plugins(plugins) : plugins;
  }

  /** True once the response headers are sent (or about to be, after the first output). */
  get headers_sent(): boolean { return guardReq(this.#c, MASK.request).headerSent; }
  get is_subrequest(): boolean { return guardReq(this.#c, MASK.request).parent !== null; }

  get config(): { subsystem: 'http'; prefix(): string; debug: boolean; ngx_lua_version: number; nginx_configure(): string } {
    const prefix = this.#c.w.conf.prefix;
    return { subsystem: 'http', prefix: () => `${prefix}/`, debug: false, ngx_lua_version: 0, nginx_configure: () => '' };
  }
}

Object.assign(Ngx.prototype, CONSTANTS, UTIL, { re: RE });

/** The ngx object of a context, made on first use. */
export function ngxOf(c: BaseCtx): Ngx {
  const r = c.req;
  if (r !== null) return (r.api ??= new Ngx(r)) as Ngx;
  return ((c as { api?: object | null }).api ??= new Ngx(c)) as Ngx;
}

/** `file:line: ` of the handler line that called ngx.log (only when the line is written). */
function callerOf(): string {
  const stack = new Error().stack?.split('\n')[3] ?? '';
  const m = /\(?((?:file:\/\/)?[^()\s]+:\d+):\d+\)?$/.exec(stack);
  return m ? `${m[1].replace(/^file:\/\//, '')}: ` : '';
}

export type { Req };
