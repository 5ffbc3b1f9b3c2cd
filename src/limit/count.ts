// limit_count: lua-resty-limit-traffic's resty.limit.count, a fixed window: at most `limit`
// requests per `window` seconds, the window starting with its first request.
import type { Decision } from './decision.js';
import { failedDecision } from './decision.js';
import { Limiter, type Logger } from './limiter.js';
import type { LimitOptions, Policy } from './options.js';
import { positive } from './options.js';
import { FAILED, script } from './redis.js';

// KEYS[1]; ARGV: window ms, commit. Answers {requests in the window (this one included), ms left}.
const COUNT = script(`
local n
if ARGV[2] == '1' then
  n = redis.call('INCR', KEYS[1])
  if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
else
  n = tonumber(redis.call('GET', KEYS[1]) or '0') + 1
end
return {n, redis.call('PTTL', KEYS[1])}`);

const UNCOMMIT = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('DECR', KEYS[1])`);

export class LimitCount<P extends Policy = 'local'> extends Limiter<P> {
  private readonly limit: number;
  private readonly window: number;

  constructor(dictName: string, limit: number, window: number, opts?: LimitOptions) {
    super(dictName, opts);
    this.limit = positive(limit, 'limit');
    this.window = positive(window, 'window');
  }

  private decision(remaining: number, ttlMs: number): Decision {
    const ok = remaining >= 0;
    return {
      ok, delay: 0, value: remaining, err: ok ? null : 'rejected', limit: this.limit, remaining,
      retryAfter: ttlMs > 0 ? ttlMs / 1000 : this.window, failed: false, committed: ok,
    };
  }

  protected decide(key: string, commit: boolean, log?: Logger): Decision | Promise<Decision> {
    const d = this.dict;
    if (d) {
      let remaining: number;
      if (commit) {
        const [n, err] = d.incr(key, -1, this.limit, this.window);
        if (n === null) return { ...this.decision(-1, 0), err };
        remaining = n;
      } else {
        const [v] = d.get(key);
        remaining = (typeof v === 'number' ? v : this.limit) - 1;
      }
      return this.decision(remaining, remaining < 0 || this.o.headers ? (d.ttl(key)[0] ?? 0) * 1000 : 0);
    }
    return this.redis!.run(COUNT, this.redis!.key('count', this.dictName, key), [Math.ceil(this.window * 1000), commit ? 1 : 0], log)
      .then((r) => {
        if (r === FAILED) return failedDecision(this.o.fail === 'open', this.limit);
        const [n, ttl] = r as [number, number];
        return this.decision(this.limit - n, ttl);
      });
  }

  /** Gives back one request of the window: [remaining, err]. */
  uncommit(key: string | number): P extends 'redis' ? Promise<[number | null, string | null]> : [number | null, string | null] {
    const k = String(key);
    if (this.dict) {
      const [n, err] = this.dict.incr(k, 1);
      if (n === null) return (err === 'not found' ? [this.limit, null] : [null, err]) as never;
      return [n, null] as never;
    }
    return this.redis!.run(UNCOMMIT, this.redis!.key('count', this.dictName, k), [])
      .then((r) => (r === FAILED ? [null, 'unavailable'] : r === -1 ? [this.limit, null] : [this.limit - (r as number), null])) as never;
  }
}
