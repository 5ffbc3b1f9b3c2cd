// The shapes rack works with: the part of `ngx` it uses, the request and response middlewares
// see, and the middleware itself. Kept apart so handler files can import the types alone.

import type { Args } from '../api/args.js';
import type { HeaderValue } from '../api/headers.js';

/**
 * What rack needs from the request's `ngx` object (tresty's `Ngx` satisfies it). Structural, so
 * rack works with whatever `ngx` a handler was given and can be tested with a stand-in.
 */
export interface RackNgx {
  readonly req: {
    get_method(): string;
    get_headers(max?: number): Record<string, string | string[]>;
    get_uri_args(max?: number): Args;
    read_body(): Promise<void>;
    get_body_data(): string | null;
    /** The temp file of a body past client_body_buffer_size (optional for stand-ins). */
    get_body_file?(): string | null;
    body_stream(): AsyncIterable<Uint8Array>;
  };
  readonly var: Record<string, string | undefined>;
  status: number;
  readonly header: Record<string, HeaderValue | undefined>;
  print(...args: unknown[]): unknown;
  flush(wait?: boolean): Promise<unknown>;
}

/** Header names are case-insensitive (`_` reads as `-`, as in `ngx.header`); values are strings or arrays. */
export type RackHeaders = Record<string, HeaderValue | undefined>;

/** A response body: whole, or an async iterable of chunks sent as they are produced. */
export type RackBody = string | Uint8Array | AsyncIterable<Uint8Array | string>;

export interface RackRequest {
  /** The request's `ngx` (for ngx.log, ngx.ctx, subrequests ...). Not enumerable. */
  readonly ngx: RackNgx;
  method: string;
  /** `http` or `https`. */
  scheme: string;
  /** `$host`: the Host header without its port, else the server name. */
  host: string;
  /** `$request_uri`: the target as received, with its query (`/a/b?x=1`). */
  uri: string;
  /** `$uri`: the normalized path, no query (`/a/b`). */
  path: string;
  /** `$args`: the query string without `?` (`x=1`). */
  query: string;
  /** The query parsed as `ngx.req.get_uri_args(0)` does; parsed on first access, assignable. */
  args: Args;
  headers: RackHeaders;
  /**
   * The whole body as text, read on first access (`await req.body`). Assign a string, bytes or an
   * async iterable to change what inner middlewares read.
   */
  get body(): Promise<string>;
  set body(v: string | Uint8Array | AsyncIterable<Uint8Array>);
  /** The body in pieces as they arrive, never buffered whole (once per request). */
  stream(): AsyncIterable<Uint8Array>;
  /** Fields a middleware adds for the ones after it. */
  [field: string]: unknown;
}

export interface RackResponse {
  /** Unset until a middleware sets it; `respond` sends 200 then. */
  status: number | undefined;
  headers: RackHeaders;
  body: RackBody;
  [field: string]: unknown;
}

/** What a middleware may return: the response, or an object rack completes into one. */
export type RackResult = RackResponse | { status?: number; headers?: Record<string, unknown>; body?: RackBody | null; [field: string]: unknown };

export type Next = () => Promise<RackResponse>;
export type Middleware = (req: RackRequest, next: Next) => RackResult | Promise<RackResult>;
