// Subrequests (ngx.location.capture / capture_multi): a location's pipeline run inside the
// worker on an in-memory exchange that captures status, headers and body. No network; the
// subrequest has its own ngx.ctx and (by default) its own variables.

import type { HttpExchange } from '../http/types.js';
import { TrestyError } from '../errors.js';
import { Req } from '../request/req.js';
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
  header: Record<string, string | string[]>;
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
  readonly aborted = false;
  headersSent = false;
  bytesSent = 0;
  status = 0;
  readonly header: Record<string, string | string[]> = {};
  private readonly chunks: Buffer[] = [];
  private truncated = false;

  constructor(
    parent: Req,
    readonly method: string,
    readonly url: string,
    readonly headers: Readonly<Record<string, string | string[] | undefined>>,
    private readonly bodyData: Buffer | null,
    private readonly done: (ex: CaptureExchange) => void,
  ) {
    const p = parent.ex;
    this.httpVersion = p.httpVersion;
    this.rawHeaders = p.rawHeaders;
    this.scheme = p.scheme;
    this.remoteAddress = p.remoteAddress;
    this.remotePort = p.remotePort;
    this.localAddress = p.localAddress;
    this.localPort = p.localPort;
  }

  get body(): AsyncIterable<Uint8Array> {
    const data = this.bodyData;
    return (async function* () { if (data) yield data; })();
  }

  onAbort(): void { /* an in-memory exchange never aborts */ }

  writeHead(status: number, headers: ReadonlyArray<readonly [string, string]>): void {
    this.status = status;
    this.headersSent = true;
    for (const [n, v] of headers) {
      const k = n.toLowerCase();
      const prev = this.header[k];
      this.header[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
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
    return { status: this.status, header: this.header, body: Buffer.concat(this.chunks).toString('utf8'), truncated: this.truncated };
  }
}

export function capture(parent: Req, uri: string, opts: CaptureOptions = {}): Promise<CaptureResult> {
  if (typeof uri !== 'string' || !uri.startsWith('/')) {
    return Promise.reject(new TrestyError('TRESTY_ERR_SUBREQUEST', `ngx.location.capture: uri must start with "/": "${uri}"`));
  }
  const t = parseTarget(uri);
  if (t === null) return Promise.reject(new TrestyError('TRESTY_ERR_SUBREQUEST', `ngx.location.capture: bad uri "${uri}"`));
  const extra = opts.args === undefined ? '' : typeof opts.args === 'string' ? opts.args : encodeArgs(opts.args);
  const args = t.args && extra ? `${t.args}&${extra}` : t.args || extra;
  const method = (opts.method ?? 'GET').toUpperCase();
  let body: Buffer | null = null;
  if (opts.body !== undefined) body = typeof opts.body === 'string' ? Buffer.from(opts.body) : Buffer.from(opts.body);
  else if ((opts.always_forward_body || method === 'POST' || method === 'PUT') && parent.body) body = parent.body;
  const headers: Record<string, string | string[] | undefined> = { ...parent.inHeaders };
  if (body) headers['content-length'] = String(body.length);
  else delete headers['content-length'];
  delete headers['transfer-encoding'];

  return new Promise<CaptureResult>((resolve) => {
    const target = args ? `${t.uri}?${args}` : t.uri;
    const ex = new CaptureExchange(parent, method, target, headers, body, (e) => resolve(e.result()));
    const sub = new Req(parent.w, ex, parent.server, method, target, parent);
    sub.uri = t.uri;
    sub.args = args;
    sub.body = body ?? null;
    if (opts.ctx) sub.ctx = opts.ctx;
    if (opts.share_all_vars) sub.vars = (parent.vars ??= Object.create(null) as Record<string, string>);
    else if (opts.copy_all_vars && parent.vars) sub.vars = Object.assign(Object.create(null) as Record<string, string>, parent.vars);
    if (opts.vars) {
      const v = (sub.vars ??= Object.create(null) as Record<string, string>);
      for (const [k, x] of Object.entries(opts.vars)) v[k] = x === undefined || x === null ? '' : String(x);
    }
    parent.w.run(sub);
  });
}

/** Runs the subrequests concurrently; results in the same order. */
export function captureMulti(parent: Req, reqs: ReadonlyArray<readonly [string, CaptureOptions?] | [string]>): Promise<CaptureResult[]> {
  return Promise.all(reqs.map(([uri, opts]) => capture(parent, uri, opts)));
}
