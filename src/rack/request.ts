// The request middlewares see: read from `ngx` when the chain starts, changed freely by
// middlewares (rack never writes it back to nginx's request). Headers, args and the body are
// made on first access, so a middleware that never looks at them costs nothing for them.

import fs from 'node:fs';
import { decodeArgs, type Args } from '../api/args.js';
import { TrestyError } from '../errors.js';
import { asRackHeaders, rackHeaders } from './headers.js';
import type { RackHeaders, RackNgx, RackRequest } from './types.js';

type BodySource = string | Uint8Array | AsyncIterable<Uint8Array>;

export class Request implements RackRequest {
  [field: string]: unknown;
  method: string;
  scheme: string;
  host: string;
  uri: string;
  path: string;
  query: string;

  readonly #ngx: RackNgx;
  #headers: RackHeaders | undefined;
  #args: Args | undefined;
  /** The query #args was parsed from: a middleware changing `query` gets fresh args. */
  #argsOf = '';
  /** undefined: the client's body, untouched; else what a middleware assigned. */
  #src: BodySource | undefined;
  #text: Promise<string> | undefined;
  /** The client's body was handed out by stream(). */
  #streamed = false;

  constructor(ngx: RackNgx) {
    this.#ngx = ngx;
    const v = ngx.var;
    this.method = ngx.req.get_method();
    this.scheme = v.scheme ?? 'http';
    this.host = v.host ?? '';
    this.uri = v.request_uri ?? '/';
    this.path = v.uri ?? '/';
    this.query = v.args ?? '';
  }

  get ngx(): RackNgx { return this.#ngx; }

  get headers(): RackHeaders {
    return (this.#headers ??= rackHeaders(this.#ngx.req.get_headers(0)));
  }
  set headers(h: RackHeaders) { this.#headers = asRackHeaders(h); }

  get args(): Args {
    if (this.#args === undefined || this.#argsOf !== this.query) {
      this.#args = decodeArgs(this.query, 0);
      this.#argsOf = this.query;
    }
    return this.#args;
  }
  set args(a: Args) { this.#args = a; this.#argsOf = this.query; }

  get body(): Promise<string> {
    return (this.#text ??= this.#readText());
  }
  set body(v: BodySource) {
    this.#src = v;
    this.#text = undefined;
  }

  stream(): AsyncIterable<Uint8Array> {
    const text = this.#text;
    if (text !== undefined) return once(text.then((t) => Buffer.from(t)));
    const src = this.#src;
    if (src === undefined) return this.#clientStream();
    if (typeof src === 'string') return once(Promise.resolve(Buffer.from(src)));
    if (src instanceof Uint8Array) return once(Promise.resolve(src));
    return src;
  }

  async #readText(): Promise<string> {
    const src = this.#src;
    if (src === undefined) {
      if (this.#streamed) throw consumed();
      // Through ngx.req so that get_body_data(), $request_body and subrequests see it too.
      const req = this.#ngx.req;
      await req.read_body();
      const data = req.get_body_data();
      if (data !== null) return data;
      // Past client_body_buffer_size nginx (and tresty) keep the body in a temp file.
      const file = req.get_body_file?.() ?? null;
      return file === null ? '' : fs.promises.readFile(file, 'utf8');
    }
    if (typeof src === 'string') return src;
    if (src instanceof Uint8Array) return Buffer.from(src.buffer, src.byteOffset, src.byteLength).toString('utf8');
    const parts: Buffer[] = [];
    for await (const c of src) parts.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    return Buffer.concat(parts).toString('utf8');
  }

  #clientStream(): AsyncIterable<Uint8Array> {
    if (this.#streamed) throw consumed();
    this.#streamed = true;
    return this.#ngx.req.body_stream();
  }
}

function consumed(): TrestyError {
  return new TrestyError('TRESTY_ERR_API_ARGS', 'rack: the request body was already consumed by req.stream()');
}

async function* once(p: Promise<Uint8Array>): AsyncIterable<Uint8Array> {
  const c = await p;
  if (c.byteLength > 0) yield c;
}
