// A rack: an ordered list of middlewares, built once (typically at module load) and run for
// many concurrent requests. The instance holds only the list; everything about one request
// lives in that request's execute() call, so requests never see each other's state.

import { TrestyError } from '../errors.js';
import { Request } from './request.js';
import { complete, defaultResponse, ownerOf, remember, send } from './response.js';
import type { Middleware, RackNgx, RackResponse } from './types.js';

interface Entry {
  readonly fn: Middleware;
  /** `file:line` of the use() call, for errors that name the middleware. */
  readonly at: string;
}

export class Rack {
  readonly #stack: Entry[] = [];

  /** Adds a middleware after the ones already added (the first added runs first). */
  use(mw: Middleware): this {
    if (typeof mw !== 'function') throw new TrestyError('TRESTY_ERR_API_ARGS', 'rack.use: a middleware is a function (req, next) => res');
    this.#stack.push({ fn: mw, at: callSite() });
    return this;
  }

  /**
   * Runs the middlewares for the request of `ngx` and resolves to the response. One rack serves
   * many requests: `ngx` says which. Without it, the request is the one whose handler is running
   * now, as in the seed's `r:respond(r:execute())`; that needs the call before the handler's
   * first `await` (JavaScript has no coroutine to find it from later).
   */
  execute(ngx?: RackNgx): Promise<RackResponse> {
    const owner = ngx ?? currentNgx() ?? undefined;
    if (owner === undefined) {
      return Promise.reject(new TrestyError('TRESTY_ERR_API_ARGS',
        'rack.execute: no request is running here; call it before the handler\'s first await, or pass the handler\'s ngx: r.execute(ngx)'));
    }
    // A handler that does not await execute() still keeps its request open until it is done.
    return holdRequest(owner, this.#run(owner));
  }

  async #run(ngx: RackNgx): Promise<RackResponse> {
    const stack = this.#stack.slice(); // a use() during a request does not change it
    const req = new Request(ngx);
    const run = async (i: number): Promise<RackResponse> => {
      const e = stack[i];
      if (e === undefined) return defaultResponse();
      const v = await e.fn(req, () => run(i + 1));
      return complete(v, () => describe(e, i));
    };
    const res = await run(0);
    remember(res, ngx);
    return res;
  }

  /**
   * Sends a response from execute(); `ngx` only for a response made some other way. The request
   * stays open until the whole body is sent, even when the handler does not await this.
   */
  respond(res: RackResponse, ngx?: RackNgx): Promise<void> {
    const owner = ownerOf(res, ngx);
    return holdRequest(owner, send(owner, res));
  }

  /** `(ngx) => respond(await execute(ngx))`: a content_by_js_file module's default export. */
  handler(): (ngx: RackNgx) => Promise<void> {
    return async (ngx) => this.respond(await this.execute(ngx), ngx);
  }
}

// The server's hooks, found through global symbols (src/api/ngx.ts) so that a copy of rack from
// another install works with the running tresty.
const CURRENT = Symbol.for('tresty.currentNgx');
const HOLD = Symbol.for('tresty.holdRequest');

/** The ngx of the handler whose synchronous part runs now, if the server can tell. */
function currentNgx(): RackNgx | null {
  const f = (globalThis as Record<symbol, unknown>)[CURRENT];
  return typeof f === 'function' ? (f() as RackNgx | null) : null;
}

/** Keeps the request of `ngx` open until `p` settles (see holdRequest in src/api/ngx.ts). */
function holdRequest<T>(ngx: RackNgx, p: Promise<T>): Promise<T> {
  const h = (ngx as unknown as Record<symbol, unknown>)[HOLD];
  return typeof h === 'function' ? (h as (q: Promise<T>) => Promise<T>).call(ngx, p) : p;
}

function describe(e: Entry, i: number): string {
  const name = e.fn.name ? ` "${e.fn.name}"` : '';
  return `middleware #${i + 1}${name}${e.at ? ` (added at ${e.at})` : ''}`;
}

/**
 * The `file:line` that called use(). Counted by frames (callSite, use, caller) rather than by
 * file name: with source maps on, this file's frames show its .ts path, not import.meta.url.
 */
function callSite(): string {
  const frame = new Error().stack?.split('\n')[3] ?? '';
  const m = /\(?((?:file:\/\/)?[^()\s]+):(\d+):\d+\)?$/.exec(frame);
  return m ? `${m[1].replace(/^file:\/\//, '')}:${m[2]}` : '';
}
