// tresty/limit: rate limiting on js_shared_dict zones (exact across one machine's workers) or on
// Redis (one limit for several machines), in the shape of lua-resty-limit-traffic:
//
//   import { limit_req } from 'tresty/limit';
//   const lim = limit_req.new('limits', 10, 20, { status: 429, headers: true });   // 10 r/s, burst 20
//   // access_by_js_file:
//   export default async (ngx) => { await lim.enforce(ngx, ngx.var.remote_addr); };
//   // or by hand, as in Lua:
//   const [delay, err] = lim.incoming(ngx.var.remote_addr, true);
//   if (delay === null) return ngx.exit(err === 'rejected' ? 429 : 500);
//   if (delay >= 0.001) await ngx.sleep(delay);
import { LimitConn } from './conn.js';
import { LimitCount } from './count.js';
import type { LimitOptions } from './options.js';
import { LimitReq } from './req.js';

type Local = LimitOptions & { readonly policy?: 'local' };
type Redis = LimitOptions & { readonly policy: 'redis' };

export const limit_req = {
  /** A leaky bucket: `rate` requests per second, `burst` more delayed; beyond, rejected. */
  new: ((dict: string, rate: number, burst: number, opts?: LimitOptions) => new LimitReq(dict, rate, burst, opts)) as {
    (dict: string, rate: number, burst: number, opts?: Local): LimitReq<'local'>;
    (dict: string, rate: number, burst: number, opts: Redis): LimitReq<'redis'>;
  },
};

export const limit_conn = {
  /** Concurrent requests: `max` at once, `burst` more delayed by default_conn_delay each; beyond, rejected. */
  new: ((dict: string, max: number, burst: number, defaultConnDelay: number, opts?: LimitOptions) =>
    new LimitConn(dict, max, burst, defaultConnDelay, opts)) as {
    (dict: string, max: number, burst: number, defaultConnDelay: number, opts?: Local): LimitConn<'local'>;
    (dict: string, max: number, burst: number, defaultConnDelay: number, opts: Redis): LimitConn<'redis'>;
  },
};

export const limit_count = {
  /** A fixed window: `limit` requests per `window` seconds. */
  new: ((dict: string, limit: number, window: number, opts?: LimitOptions) => new LimitCount(dict, limit, window, opts)) as {
    (dict: string, limit: number, window: number, opts?: Local): LimitCount<'local'>;
    (dict: string, limit: number, window: number, opts: Redis): LimitCount<'redis'>;
  },
};

export { LimitConn, LimitCount, LimitReq };
export type { LimitResult } from './decision.js';
export type { LimitOptions, Policy, RedisOptions } from './options.js';
export { closeRedis } from './redis.js';
