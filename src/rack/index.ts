// tresty/rack: composable middleware for handlers.
//
//   import { rack } from 'tresty/rack';
//   const r = rack.new();
//   r.use(async (req, next) => { const res = await next(); res.status = 200; return res; });
//   export default r.handler();          // or: async (ngx) => r.respond(await r.execute(ngx))

import { Rack } from './rack.js';
import { chunks } from './response.js';

export const rack = {
  /** A new rack with no middlewares. */
  new: (): Rack => new Rack(),
  /** Any body (string, bytes, async iterable) as an async iterable of chunks. */
  chunks,
};

export { Rack, chunks };
export type { Middleware, Next, RackBody, RackHeaders, RackNgx, RackRequest, RackResponse, RackResult } from './types.js';
