// Responses: the default one the innermost next() returns, completing what a middleware
// returned, and sending the result through ngx (whole bodies in one write, async iterables chunk
// by chunk with a flush each, so they stream through body filters with back-pressure).

import { TrestyError } from '../errors.js';
import { BUFFERING } from '../request/out-result.js';
import { asRackHeaders, headerEntries, rackHeaders } from './headers.js';
import type { RackBody, RackNgx, RackResponse } from './types.js';

/** The ngx of the request each response answers, so respond(res) needs no second argument. */
const owners = new WeakMap<object, RackNgx>();

export function defaultResponse(): RackResponse {
  return { status: undefined, headers: rackHeaders(), body: '' };
}

/**
 * Completes a middleware's return value into a response, in place (outer middlewares and the
 * caller see the same object). Anything but an object is TRESTY_ERR_RACK_NO_RESPONSE.
 */
export function complete(v: unknown, who: () => string): RackResponse {
  if (typeof v !== 'object' || v === null) {
    throw new TrestyError('TRESTY_ERR_RACK_NO_RESPONSE',
      `rack: ${who()} returned ${v === null ? 'null' : typeof v} instead of a response; return the response from next() or a new one`);
  }
  const res = v as RackResponse;
  res.headers = asRackHeaders(res.headers);
  if (res.body === undefined || res.body === null) res.body = '';
  return res;
}

export function remember(res: RackResponse, ngx: RackNgx): void { owners.set(res, ngx); }

export function ownerOf(res: RackResponse, ngx: RackNgx | undefined): RackNgx {
  const n = ngx ?? owners.get(res);
  if (n === undefined) {
    throw new TrestyError('TRESTY_ERR_API_ARGS', 'rack.respond: this response did not come from execute(ngx); pass the request\'s ngx: r.respond(res, ngx)');
  }
  return n;
}

/** Sends `res` as the request's response: status (200 if unset), headers, then the body. */
export async function send(ngx: RackNgx, res: RackResponse): Promise<void> {
  ngx.status = res.status ?? 200;
  const header = ngx.header;
  for (const [k, v] of headerEntries(asRackHeaders(res.headers))) header[k] = v;
  const body: RackBody | null | undefined = res.body;
  if (body === undefined || body === null) return;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    // A whole body has its length (as docs/rack.md says; ngx.print alone would go chunked).
    if (header['Content-Length'] === undefined || header['Content-Length'] === null) {
      header['Content-Length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    }
    if (body.length > 0) ngx.print(body);
    return;
  }
  if (!isAsyncIterable(body)) {
    throw new TrestyError('TRESTY_ERR_API_ARGS', 'rack.respond: res.body must be a string, a Uint8Array or an async iterable of chunks');
  }
  // Each chunk goes out (headers first, then body_filter_by_js) before the next is pulled: the
  // producer runs no faster than the client reads.
  for await (const c of body) {
    if (typeof c === 'string' ? c.length === 0 : c.byteLength === 0) continue;
    ngx.print(c);
    const r = await ngx.flush(true);
    // The client went away (or the body ended): stop pulling. HTTP/1.0's buffering is no failure.
    if (Array.isArray(r) && r[0] === null && r[1] !== BUFFERING) break;
  }
}

function isAsyncIterable(v: unknown): v is AsyncIterable<Uint8Array | string> {
  return typeof v === 'object' && v !== null && typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/**
 * Any body as an async iterable of chunks: for middlewares that wrap a body whatever its kind,
 * e.g. `res.body = upper(chunks(res.body))`.
 */
export async function* chunks(body: RackBody | null | undefined): AsyncIterable<Uint8Array | string> {
  if (body === undefined || body === null) return;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    if (body.length > 0) yield body;
    return;
  }
  yield* body;
}
