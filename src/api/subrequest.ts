// Subrequests (ngx.location.capture / capture_multi): a location's pipeline run inside the
// worker on an in-memory exchange that captures status, headers and body. No network; the
// subrequest has its own ngx.ctx and (by default) its own variables. As in nginx, nesting stops
// at 50 levels ("subrequests cycle"), and a request whose client went away starts no more.

import type { HttpExchange } from '../http/types.js';
import { TrestyError } from '../errors.js';
import { logReq } from '../request/report.js';
import { type BodyFile, Req } from '../request/req.js';
import { parseTarget } from '../request/uri.js';
import { encodeArgs } from './args.js';

export interface CaptureOptions {
  method?: string;
  /** The subrequest body (default: the parent's body, if read, for POST/PUT or always_forward_body). */
  body?: string | Uint8Array;
  args?: string | Record<string, unknown>;
  /** A table to use as the subrequest's ngx.ctx. */
  ctx?: Record<string, unknown>;
  /** Variables to set in the subrequest. */
  vars?: Record<string, unknown>;
  copy_all_vars?: boolean;
  share_all_vars?: boolean;
  always_forward_body?: boolean;
}

export interface CaptureResult {
  status: number;
  /** Names as the subrequest sent them, looked up case-insensitively; a repeated header is an
   *  array; nginx's own Content-Length a number. */
  header: Record<string, string | string[] | number>;
  /** The body; empty for an error status answered with nginx's page (then `truncated` is true). */
  body: string;
  truncated: boolean;
}

class CaptureExchange implements HttpExchange {
  readonly httpVersion: string;
  readonly rawHeaders: readonly string[];
  readonly scheme: 'http' | 'https';
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  headersSent = false;
  bytesSent = 0;
  status = 0;
  readonly header: Record<string, string | string[] | number> = {};
  private readonly chunks: Buffer[] = [];
  private truncated = false;
  /** The subrequest, once made (its special responses mark the capture truncated). */
  sub: Req | null = null;
  /** The main request's exchange: a subrequest ends when its client goes away. */
  private readonly client: HttpExchange;

  constructor(
    parent: Req,
    readonly method: string,
    readonly url: string,
    readonly headers: Readonly<Record<string, string | string[] | undefined>>,
    private readonly bodyData: Buffer | null,
    private readonly done: (ex: CaptureExchange) => void,
  ) {
    const p = parent.ex;
    this.client = parent.main.ex;
    this.httpVersion = p.httpVersion;
    this.rawHeaders = p.rawHeaders;
    this.scheme = p.scheme;
    this.remoteAddress = p.remoteAddress;
    this.remotePort = p.remotePort;
    this.localAddress = p.localAddress;
    this.localPort = p.localPort;
  }

  get aborted(): boolean { return this.client.aborted; }

  get body(): AsyncIterable<Uint8Array> {
    const data = this.bodyData;
    return (async function* () { if (data) yield data; })();
  }

  onAbort(cb: () => void): void { this.client.onAbort(cb); }

  writeHead(status: number, headers: ReadonlyArray<readonly [string, string]>): void {
    this.status = status;
    this.headersSent = true;
    for (const [n, v] of headers) {
      const prev = this.header[n];
      this.header[n] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [String(prev)]), v];
    }
  }

  write(chunk: Uint8Array | string): void {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.chunks.push(b);
    this.bytesSent += b.length;
  }

  end(chunk?: Uint8Array | string): void {
    if (chunk !== undefined) this.write(chunk);
    this.done(this);
  }

  /** A subrequest cut after its headers: the capture reports what came, as truncated. */
  destroy(): void {
    this.truncated = true;
    this.done(this);
  }

  result(): CaptureResult {
    const sub = this.sub;
    // nginx's own length is lua's number (content_length_n); a line a handler set stays a string.
    const len = this.header['Content-Length'];
    if (sub?.ownLength === true && typeof len === 'string') this.header['Content-Length'] = Number(len);
    return {
      status: this.status,
      header: caseless(this.header),
      body: Buffer.concat(this.chunks).toString('utf8'),
      // a HEAD's body never ends (nginx's header_only): lua marks it truncated too
      truncated: this.truncated || sub?.truncated === true || sub?.method === 'HEAD',
    };
  }
}

/** The headers with their names as sent; `h['content-type']` finds `Content-Type`. */
function caseless<T>(h: Record<string, T>): Record<string, T> {
  return new Proxy(h, {
    get(t, k) {
      if (typeof k !== 'string' || k in t) return t[k as string];
      const want = k.toLowerCase();
      for (const name of Object.keys(t)) if (name.toLowerCase() === want) return t[name];
      return undefined;
    },
    has(t, k) {
      if (typeof k !== 'string') return false;
      const want = k.toLowerCase();
      return Object.keys(t).some((name) => name.toLowerCase() === want);
    },
  });
}

function refuse(uri: string, why: string): Promise<never> {
  return Promise.reject(new TrestyError('TRESTY_ERR_SUBREQUEST', `failed to issue subrequest "${uri}": ${why}`));
}

/**
 * `onSub` sees the subrequest once made (auth_request reads its variables when it is done).
 * `whole`: the URI is the path as written, `?` and all, as nginx's own modules' subrequests take
 * it (auth_request); ngx.location.capture splits off the args, as lua does.
 */
export function capture(parent: Req, uri: string, opts: CaptureOptions = {}, onSub?: (sub: Req) => void, whole = false): Promise<CaptureResult> {
  const s = issue(parent, uri, opts, whole);
  if (s instanceof Promise) return s;
  onSub?.(s.sub);
  parent.w.run(s.sub);
  return s.done;
}

/** A subrequest made, not run yet; or the refusal. */
function issue(parent: Req, uri: string, opts: CaptureOptions, whole = false): { sub: Req; done: Promise<CaptureResult> } | Promise<never> {
  if (typeof uri !== 'string' || !uri.startsWith('/')) {
    return Promise.reject(new TrestyError('TRESTY_ERR_SUBREQUEST', `ngx.location.capture: uri must start with "/": "${uri}"`));
  }
  const t = whole ? { uri, args: '' } : parseTarget(uri);
  if (t === null) return Promise.reject(new TrestyError('TRESTY_ERR_SUBREQUEST', `ngx.location.capture: bad uri "${uri}"`));
  if (parent.subrequestsLeft <= 0) {
    logReq(parent, 'error', `subrequests cycle while processing "${t.uri}"`);
    return refuse(uri, 'subrequests cycle');
  }
  // A client that closed its side counts as gone here (nginx would not notice): no new work for it.
  if (parent.main.ex.aborted || parent.main.ex.clientEnded === true || parent.main.cut) return refuse(uri, 'the client went away');
  const extra = opts.args === undefined ? '' : typeof opts.args === 'string' ? opts.args : encodeArgs(opts.args);
  const args = t.args && extra ? `${t.args}&${extra}` : t.args || extra;
  const method = (opts.method ?? 'GET').toUpperCase();
  let body: Buffer | null = null;
  let bodyFile: BodyFile | null = null;
  const headers: Record<string, string | string[] | undefined> = { ...parent.inHeaders };
  // lua-nginx-module's: a body given has its length; a method that does not forward the parent's
  // body (not POST/PUT, no always_forward_body) drops a length > 0; else the parent's body (read
  // or not) and its headers as they are, Content-Length too (a chunked one's read body its length).
  const forward = opts.always_forward_body === true || method === 'POST' || method === 'PUT';
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? Buffer.from(opts.body) : Buffer.from(opts.body);
    headers['content-length'] = String(body.length);
  } else if (!forward && Number(headers['content-length']) > 0) {
    delete headers['content-length'];
  } else {
    // A body in a file is shared as nginx shares it: the subrequest's get_body_file names it.
    if (parent.bodyFile !== null) bodyFile = parent.bodyFile;
    else if (parent.body) body = parent.body;
    if (headers['transfer-encoding'] !== undefined) {
      if (body) headers['content-length'] = String(body.length);
      else if (bodyFile) headers['content-length'] = String(bodyFile.size);
      else delete headers['content-length'];
    }
  }
  delete headers['transfer-encoding'];

  let resolve!: (res: CaptureResult) => void;
  const done = new Promise<CaptureResult>((res) => { resolve = res; });
  const target = args ? `${t.uri}?${args}` : t.uri;
  const ex = new CaptureExchange(parent, method, target, headers, body, (e) => resolve(e.result()));
  const sub = new Req(parent.w, ex, parent.server, method, target, parent);
  ex.sub = sub;
  sub.uri = t.uri;
  sub.args = args;
  sub.argsMark = uri.includes('?');
  sub.body = body ?? null;
  sub.bodyFile = bodyFile;
  if (opts.ctx) sub.ctx = opts.ctx;
  if (opts.share_all_vars) sub.vars = (parent.vars ??= Object.create(null) as Record<string, string>);
  else if (opts.copy_all_vars && parent.vars) sub.vars = Object.assign(Object.create(null) as Record<string, string>, parent.vars);
  if (opts.vars) {
    const v = (sub.vars ??= Object.create(null) as Record<string, string>);
    for (const [k, x] of Object.entries(opts.vars)) v[k] = x === undefined || x === null ? '' : String(x);
  }
  return { sub, done };
}

/**
 * Runs the subrequests concurrently; results in the same order. All are made (their `vars` set)
 * before the first runs, as nginx posts them: with share_all_vars a later one's `vars` are seen by
 * an earlier one.
 */
export function captureMulti(parent: Req, reqs: ReadonlyArray<readonly [string, CaptureOptions?] | [string]>): Promise<CaptureResult[]> {
  const subs: Array<{ sub: Req; done: Promise<CaptureResult> }> = [];
  for (const [uri, opts] of reqs) {
    const s = issue(parent, uri, opts ?? {});
    if (s instanceof Promise) return s;
    subs.push(s);
  }
  for (const s of subs) parent.w.run(s.sub);
  return Promise.all(subs.map((s) => s.done));
}
