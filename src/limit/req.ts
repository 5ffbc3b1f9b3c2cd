// limit_req: lua-resty-limit-traffic's resty.limit.req, a leaky bucket of `rate` requests per
// second with `burst` more let through (delayed). Locally the whole read-decide-write is one
// native step under the zone's lock, so two workers never both take the last place.
import { type Decision, failedDecision } from './decision.js';
import { Limiter, type Logger } from './limiter.js';
import type { LimitOptions, Policy } from './options.js';
import { positive } from './options.js';
import { FAILED, script } from './redis.js';

// KEYS[1]; ARGV: rate and burst in thousandths of a request, commit. Redis's clock for every
// machine; the record expires once the bucket has drained a whole request.
const LEAKY = script(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local excess = 0
local v = redis.call('HMGET', KEYS[1], 'excess', 'last')
if v[1] then
  excess = math.max(tonumber(v[1]) - rate * math.abs(now - tonumber(v[2])) / 1000 + 1000, 0)
  if excess > burst then return {0, tostring(excess)} end
end
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 'excess', tostring(excess), 'last', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil((excess + 1000) * 1000 / rate) + 1)
end
return {1, tostring(excess)}`);

const UNCOMMIT = script(`
local e = redis.call('HGET', KEYS[1], 'excess')
if not e then return 0 end
redis.call('HSET', KEYS[1], 'excess', tostring(math.max(tonumber(e) - 1000, 0)))
return 1`);

export class LimitReq<P extends Policy = 'local'> extends Limiter<P> {
  private rate: number;
  private burst: number;

  constructor(dictName: string, rate: number, burst: number, opts?: LimitOptions) {
    super(dictName, opts);
    this.rate = positive(rate, 'rate') * 1000;
    this.burst = positive(burst, 'burst', true) * 1000;
  }

  set_rate(rate: number): void { this.rate = positive(rate, 'rate') * 1000; }
  set_burst(burst: number): void { this.burst = positive(burst, 'burst', true) * 1000; }

  private decision(ok: boolean, excess: number): Decision {
    const rate = this.rate;
    return {
      ok, delay: ok ? excess / rate : 0, value: excess / 1000, err: ok ? null : 'rejected',
      limit: rate / 1000, remaining: ok ? (this.burst - excess) / 1000 : 0,
      retryAfter: ok ? 0 : (excess - this.burst) / rate, failed: false, committed: ok,
    };
  }

  protected decide(key: string, commit: boolean, log?: Logger): Decision | Promise<Decision> {
    if (this.dict) {
      const [ok, excess, err] = this.dict.leaky(key, this.rate, this.burst, commit);
      if (err !== null) return { ...this.decision(false, 0), err };
      return this.decision(ok, excess);
    }
    const rate = this.rate;
    const burst = this.burst;
    return this.redis!.run(LEAKY, this.redis!.key('req', this.dictName, key), [rate, burst, commit ? 1 : 0], log)
      .then((r) => {
        if (r === FAILED) return failedDecision(this.o.fail === 'open', rate / 1000);
        const [ok, excess] = r as [number, string];
        return this.decision(ok === 1, Number(excess));
      });
  }

  /** Takes one committed request back out of the bucket: [true, null] or [null, err]. */
  uncommit(key: string | number): P extends 'redis' ? Promise<[true | null, string | null]> : [true | null, string | null] {
    const k = String(key);
    if (this.dict) return this.dict.leakyUncommit(k, this.rate) as never;
    return this.redis!.run(UNCOMMIT, this.redis!.key('req', this.dictName, k), [])
      .then((r) => (r === FAILED ? [null, 'unavailable'] : r === 1 ? [true, null] : [null, 'not found'])) as never;
  }
}
