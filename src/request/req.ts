// The state one request owns: its URI, variables, ngx.ctx, response status/headers and the
// output not yet sent. Fields are plain and filled lazily so a simple request allocates little.

import type { GzipStream } from './gzip-stream.js';
import type { GunzipStream } from './gunzip.js';
import type { LocationConf, ServerConf } from '../config/types.js';
import type { HttpExchange, RawStream } from '../http/types.js';
import type { Call } from './call.js';
import type { HeaderStore } from './headers.js';
import type { LocPipeline } from './pipe.js';
import type { WorkerState } from './worker.js';
import { nowMs } from '../http/clock.js';

/** No exit status recorded. */
export const NO_EXIT = -1000;

/** nginx's limit on nested subrequests (NGX_HTTP_MAX_SUBREQUESTS). */
export const MAX_SUBREQUEST_DEPTH = 50;

/** A request body kept in a file (nginx's request_body->temp_file, or ngx.req.set_body_file's). */
export interface BodyFile {
  readonly path: string;
  size: number;
  /** Open for appends while ngx.req.append_body may still write to it; -1 otherwise. */
  fd: number;
}

/** A body ngx.req.init_body started: in `buf` up to `limit` bytes, then in `file`. */
export interface BodyBuild {
  buf: Buffer;
  size: number;
  readonly limit: number;
  file: BodyFile | null;
  /** finish_body ran while the body was in the file: later appends are lost, as on nginx. */
  sealed: boolean;
}

export class Req {
  /** The context bit of the step running now (set, rewrite ... log). */
  phase = 0;
  ctx: Record<string, unknown> | undefined = undefined;
  /** Values of `set`-declared variables; null until one is written. */
  vars: Record<string, string> | null = null;
  uri = '/';
  /** The query string, without `?`. */
  args = '';
  /** Whether empty `args` are `$args` "" (a `?` ending the target) or none (nil); null: as the
   *  target received says. Set by a subrequest's and ngx.exec's URI, as nginx splits theirs. */
  argsMark: boolean | null = null;
  loc!: LocationConf;
  pipe!: LocPipeline;
  status = 0;
  /** The status add_header and expires see when a later filter changed it (nginx's range filter
   *  turns a static 200 into a 416 after the headers filter ran); 0: `status`. */
  headersStatus = 0;
  /** add_header's `always` lines sent again after the range filter's Content-Range: its 416 page
   *  goes through nginx's header filters a second time (request/head-list.ts). */
  againHeaders: Array<readonly [string, string]> | null = null;
  /** add_trailer expects trailers and the answer is chunked for them (HTTP/1.1 with a body): nginx's
   *  chunked filter clears the length then (request/head-list.ts sends none). */
  trailerChunks = false;
  /** The gzip stream the body goes through (request/gzip.ts), or null. */
  gzip: GzipStream | null = null;
  /** The gunzip stream the body goes through (request/gunzip.ts), or null. */
  gunzip: GunzipStream | null = null;
  headers: HeaderStore | null = null;
  /** Request headers changed by ngx.req.set_header (a copy of the exchange's). */
  reqHeaders: Record<string, string | string[] | undefined> | null = null;
  /** With reqHeaders, the header lines [name, value, ...] in nginx's order (request/in-headers.ts). */
  reqLines: string[] | null = null;
  /** Headers are sent as far as handlers can tell (first output or finalize). */
  headerSent = false;
  /** header_filter ran (the headers are final for the filter chain). */
  headerFiltered = false;
  /** Headers were handed to the exchange. */
  headerWritten = false;
  /** The body is complete (eof sent, or a body filter or header_filter ended it): later output is dropped. */
  eofSent = false;
  /** The eof of the body went through the body filter (only the write is left). */
  outEof = false;
  /** The response was aborted (a filter failed, ngx.ERROR after the headers): nothing more is written. */
  cut = false;
  /** The output's sticky failure for ngx.say and co. (out-result.ts), null while it goes out. */
  outErr: string | null = null;
  /** ngx.eof was called: later output calls return "seen eof". */
  eofCalled = false;
  /** body_filter_by_js failed: the response is cut, but later chunks still go through the filter (nginx's). */
  filterBroke = false;
  /** Body bytes were output (lua-nginx-module's seen_body_data): ngx.flush sends its flush
   *  buffer through body_filter only then (or with wait). */
  seenBody = false;
  /** Output that went through the filters, waiting to be written. */
  out: Array<string | Uint8Array> | null = null;
  outLen = 0;
  /** The answer has no body whatever the status (header_filter's ngx.exit(2xx)). */
  headerOnly = false;
  /** ngx.exit(204)'s special response: nginx's length is 0 then (header_filter reads it). */
  noContent = false;
  /** The answer is a JS handler's (content_by_js, or ngx.say/print/flush/eof): lua-nginx-module
   *  sends it without a length of its own, so nginx frames it chunked on HTTP/1.1. */
  lengthless = false;
  /** The head went out by itself (ngx.send_headers, autoindex), not with a handler's output: on
   *  a HEAD, gzip then still considers the answer (output.ts). */
  headAlone = false;
  /** gzip_vary says `Vary: Accept-Encoding` (gzip_static or the gzip filter considered the answer):
   *  one line, which nginx's header filter writes right after Connection (request/head-list.ts). */
  gzipVary = false;
  /** The head is an upstream's (proxy_pass): nginx adds no default_type to it. */
  proxied = false;
  /** nginx's page for an error status (or `return`'s text, a file's last piece), sent as one
   *  chunk with eof. */
  page: string | Uint8Array | null = null;
  /** error_page's status for the response (nginx's err_status); 0: none. */
  errStatus = 0;
  /** An error_page was used (nginx's recursive_error_pages off). */
  errorPageUsed = false;
  /** Queue of an output flush still running (async filters / back-pressure). */
  pending: Promise<void> | null = null;
  exitCode = NO_EXIT;
  execUri: string | null = null;
  execArgs: string | null = null;
  /** The redirect is a `set_uri(uri, true)` jump: keep ngx.ctx, skip server ops. */
  jump = false;
  /** Internal redirects and location re-finds so far (nginx stops at 10). */
  cycles = 0;
  /** Reached by an internal redirect, a rewrite or as a subrequest (nginx's r->internal). */
  internal = false;
  /** A `rewrite` changed the URI: the location is looked up again after the rewrite phase. */
  uriChanged = false;
  /** The client's address and port the realip module set ($remote_addr); null: the socket's. */
  realAddr: string | null = null;
  realPort = '';
  /** $limit_req_status / $limit_conn_status (main request); '' until a limit ran. */
  limitReqStatus = '';
  limitConnStatus = '';
  /** limit_rate in bytes a second (main request); -1: the location's, evaluated at the first write;
   *  0: none. ngx.var.limit_rate sets it. limitRateAfter: -1 the location's. */
  limitRate = -1;
  limitRateAfter = -1;
  /** Captures of the last regex matched by `if` or `rewrite` ($1 .. $9). */
  captures: ReadonlyArray<string | undefined> | null = null;
  /** `set` variables already warned about as uninitialized (api/vars.ts). */
  uninitialized: Set<string> | null = null;
  /** How many more levels of subrequests this request may start. */
  readonly subrequestsLeft: number;
  /** A subrequest whose response was a special one (its capture says truncated). */
  truncated = false;
  /** A subrequest's Content-Length is nginx's own (its capture gives it as a number). */
  ownLength = false;
  /** The handler run of the step running now (rewrite, access, content). */
  call: Call | null = null;
  /** The directive of the last handler run (`content_by_js`), for lines about what it left behind. */
  lastHandler = '';
  /** undefined: not read yet; null: no body (or the body is in bodyFile). */
  body: Buffer | null | undefined = undefined;
  /** The body is in this file (ngx.req.get_body_file); then `body` is null. */
  bodyFile: BodyFile | null = null;
  /** The body ngx.req.init_body started (kept after finish_body: nginx still appends to one in memory). */
  bodyBuild: BodyBuild | null = null;
  /** init_body(0) ran: every later init_body writes a file too (nginx's request_body_in_file_only stays set). */
  bodyInFileOnly = false;
  /** ngx.arg for set_by_js and body_filter_by_js (1-based as in Lua). */
  arg: unknown[] | null = null;
  finished = false;
  /** Ended as nginx's normal finalization does (not cut, not terminated): $request_completion "OK". */
  completed = false;
  /** ngx.req.socket(true) took the connection: the request ends by closing it, no output of ours. */
  raw: RawStream | null = null;
  /** Work to undo when the request ends (cosockets it left open); null until something registers. */
  cleanups: Array<() => void> | null = null;
  /** Body temp files to remove: after the log phase, as nginx's request pool cleanup does. */
  bodyCleanups: Array<() => void> | null = null;
  readonly startMs: number;
  /** Connection-like serial number for error log lines (`*N`). */
  readonly serial: number;
  /** $request_id, made when first read (api/vars.ts). */
  requestId: string | null = null;

  constructor(
    readonly w: WorkerState,
    readonly ex: HttpExchange,
    readonly server: ServerConf,
    public method: string,
    /** $request_uri: the target as received (for subrequests, the one given). */
    readonly requestUri: string,
    readonly parent: Req | null,
  ) {
    this.startMs = nowMs();
    // A subrequest's lines carry its main request's number, as nginx's do.
    // The connection's number where the front has one (nginx's lines name the connection).
    this.serial = parent !== null ? parent.serial : ex.connection ?? ++w.serial;
    this.subrequestsLeft = parent === null ? MAX_SUBREQUEST_DEPTH : parent.subrequestsLeft - 1;
    if (parent !== null) this.internal = true;
  }

  /** The main request (itself unless this is a subrequest). */
  get main(): Req {
    let r: Req = this;
    while (r.parent !== null) r = r.parent;
    return r;
  }

  /** $remote_addr: the realip module's address when it set one, else the socket's. */
  get remoteAddr(): string {
    const m = this.main;
    return m.realAddr ?? m.ex.remoteAddress;
  }

  /** Request headers as handlers see them. */
  get inHeaders(): Readonly<Record<string, string | string[] | undefined>> {
    return this.reqHeaders ?? this.ex.headers;
  }

  /**
   * The request headers to change (set_header, more_set_input_headers, a new body's length), made
   * on the first change: the exchange's, with a header sent more than once as an array of its
   * lines, as nginx keeps them (the exchange's `headers` joins them with ", ", node's shape).
   */
  changedHeaders(): Record<string, string | string[] | undefined> {
    if (this.reqHeaders !== null) return this.reqHeaders;
    const h: Record<string, string | string[] | undefined> = { ...this.ex.headers };
    const raw = this.ex.rawHeaders;
    const lines = new Map<string, string[]>();
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i]!.toLowerCase();
      const got = lines.get(k);
      if (got) got.push(raw[i + 1]!);
      else lines.set(k, [raw[i + 1]!]);
    }
    // set-cookie is node's array already
    for (const [k, v] of lines) if (v.length > 1 && k !== 'set-cookie') h[k] = v;
    this.reqLines = raw.slice();
    return (this.reqHeaders = h);
  }
}
