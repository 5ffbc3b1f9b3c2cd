// The state one request owns: its URI, variables, ngx.ctx, response status/headers and the
// output not yet sent. Fields are plain and filled lazily so a simple request allocates little.

import type { LocationConf, ServerConf } from '../config/types.js';
import type { HttpExchange } from '../http/types.js';
import type { HeaderStore } from './headers.js';
import type { LocPipeline } from './pipe.js';
import type { WorkerState } from './worker.js';

/** What every API context has: a request, a timer, init or init_worker. */
export interface BaseCtx {
  phase: number;
  readonly w: WorkerState;
  ctx: Record<string, unknown> | undefined;
  /** The request, or null outside one (timers, init, init_worker). */
  readonly req: Req | null;
}

/** A context with no request: timers, init_worker, init. */
export class BareCtx implements BaseCtx {
  ctx: Record<string, unknown> | undefined = undefined;
  readonly req = null;
  /** The context's ngx object, made by the API layer on first use. */
  api: object | null = null;
  constructor(public phase: number, readonly w: WorkerState) {}
}

/** No exit status recorded. */
export const NO_EXIT = -1000;

export class Req implements BaseCtx {
  readonly req: Req = this;
  phase = 0;
  ctx: Record<string, unknown> | undefined = undefined;
  /** Values of `set`-declared variables; null until one is written. */
  vars: Record<string, string> | null = null;
  uri = '/';
  /** The query string, without `?`. */
  args = '';
  loc!: LocationConf;
  pipe!: LocPipeline;
  status = 0;
  headers: HeaderStore | null = null;
  /** Request headers changed by ngx.req.set_header (a copy of the exchange's). */
  reqHeaders: Record<string, string | string[] | undefined> | null = null;
  /** Headers are sent as far as handlers can tell (first output or finalize). */
  headerSent = false;
  /** Headers went through header_filter and were handed to the exchange. */
  headerWritten = false;
  /** A body filter set eof: later output is dropped. */
  eofSent = false;
  out: Array<string | Uint8Array> | null = null;
  outLen = 0;
  /** Queue of an output flush still running (async filters / back-pressure). */
  pending: Promise<void> | null = null;
  exitCode = NO_EXIT;
  execUri: string | null = null;
  execArgs: string | null = null;
  /** The redirect is a `set_uri(uri, true)` jump: keep ngx.ctx, skip server ops. */
  jump = false;
  /** Internal redirects and location re-finds so far (nginx stops at 10). */
  cycles = 0;
  /** undefined: not read yet; null: no body. */
  body: Buffer | null | undefined = undefined;
  /** ngx.arg for set_by_js and body_filter_by_js (1-based as in Lua). */
  arg: unknown[] | null = null;
  /** The request's ngx object, made by the API layer on first use. */
  api: object | null = null;
  finished = false;
  readonly startMs: number;
  /** Connection-like serial number for error log lines (`*N`). */
  readonly serial: number;

  constructor(
    readonly w: WorkerState,
    readonly ex: HttpExchange,
    readonly server: ServerConf,
    public method: string,
    /** $request_uri: the target as received (for subrequests, the one given). */
    readonly requestUri: string,
    readonly parent: Req | null,
  ) {
    this.startMs = Date.now();
    // A subrequest's lines carry its main request's number, as nginx's do.
    this.serial = parent === null ? ++w.serial : parent.serial;
  }

  /** Request headers as handlers see them. */
  get inHeaders(): Readonly<Record<string, string | string[] | undefined>> {
    return this.reqHeaders ?? this.ex.headers;
  }
}
