// limit_conn: lua-resty-limit-traffic's resty.limit.conn, concurrent requests per key: up to
// `max` go on at once, `burst` more are delayed (by default_conn_delay per `max` ahead of them),
// beyond that they are rejected. Every request counted must be taken back with leaving() when it
// ends (in log_by_js: leave(ngx) does it for the requests enforce() let in).
import type { Ngx } from '../api/ngx.js';
import type { Decision } from './decision.js';
import { failedDecision } from './decision.js';
import { Limiter, type Logger, type Maybe } from './limiter.js';
import type { LimitOptions, Policy } from './options.js';
import { positive } from './options.js';
import { FAILED, script } from './redis.js';

// KEYS[1]; ARGV: max + burst, commit, ttl ms. The ttl bounds what a machine that died with
// requests in flight (and so never left) keeps counted.
const INCOMING = script(`
local n
if ARGV[2] == '1' then
  n = redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  if n > tonumber(ARGV[1]) then redis.call('DECR', KEYS[1]); return {0, n} end
else
  n = tonumber(redis.call('GET', KEYS[1]) or '0') + 1
  if n > tonumber(ARGV[1]) then return {0, n} end
end
return {1, n}`);

const LEAVING = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('DECR', KEYS[1])
if n <= 0 then redis.call('DEL', KEYS[1]); return 0 end
return n`);

/** How long a Redis connection count lives without traffic (a dead machine's requests). */
const REDIS_TTL_MS = 60_000;

/** ngx.ctx slot where enforce() keeps the requests leave() must take back. */
const IN_FLIGHT = Symbol.for('tresty.limit.conn');

interface Admitted { lim: LimitConn<Policy>; key: string; start: number }

export class LimitConn<P extends Policy = 'local'> extends Limiter<P> {
  private max: number;
  private burst: number;
  private unitDelay: number;
  private committed = false;

  constructor(dictName: string, max: number, burst: number, defaultConnDelay: number, opts?: LimitOptions) {
    super(dictName, opts);
    this.max = positive(max, 'max');
    this.burst = positive(burst, 'burst', true);
    this.unitDelay = positive(defaultConnDelay, 'default_conn_delay', true);
  }

  set_conn(max: number): void { this.max = positive(max, 'max'); }
  set_burst(burst: number): void { this.burst = positive(burst, 'burst', true); }
  /** Whether the last incoming() counted its request (it then needs leaving()). */
  is_committed(): boolean { return this.committed; }

  private decision(ok: boolean, conn: number, committed: boolean): Decision {
    this.committed = committed;
    const max = this.max;
    return {
      ok, delay: ok && conn > max ? this.unitDelay * Math.floor((conn - 1) / max) : 0, value: conn,
      err: ok ? null : 'rejected', limit: max, remaining: max + this.burst - conn,
      retryAfter: ok ? 0 : Math.max(1, this.unitDelay), failed: false, committed,
    };
  }

  protected decide(key: string, commit: boolean, log?: Logger): Decision | Promise<Decision> {
    const d = this.dict;
    const top = this.max + this.burst;
    if (d) {
      if (commit) {
        // One locked check-and-take: a refused request never counts, even for a moment.
        const [ok, n, err] = d.connTake(key, top);
        if (err !== null) return { ...this.decision(false, 0, false), err };
        return this.decision(ok, n, ok);
      }
      const [v] = d.get(key);
      const n = (typeof v === 'number' ? v : 0) + 1;
      return this.decision(n <= top, n, false);
    }
    return this.redis!.run(INCOMING, this.redis!.key('conn', this.dictName, key), [top, commit ? 1 : 0, REDIS_TTL_MS], log)
      .then((r) => {
        if (r === FAILED) {
          this.committed = false;
          return failedDecision(this.o.fail === 'open', this.max);
        }
        const [ok, n] = r as [number, number];
        return this.decision(ok === 1, n, ok === 1 && commit);
      });
  }

  /**
   * A counted request ended: [connections left, err]. `req_latency` (seconds) tunes the delay
   * given to requests over max, as lua-resty-limit-traffic does.
   */
  leaving(key: string | number, req_latency?: number): Maybe<P, [number | null, string | null]> {
    if (req_latency !== undefined && req_latency !== null) this.unitDelay = (req_latency + this.unitDelay) / 2;
    const k = String(key);
    if (this.dict) {
      const [n, err] = this.dict.incr(k, -1);
      return (n === null ? [null, err] : [n, null]) as Maybe<P, [number | null, string | null]>;
    }
    return this.redis!.run(LEAVING, this.redis!.key('conn', this.dictName, k), [])
      .then((r) => (r === FAILED ? [null, 'unavailable'] : [r as number, null])) as Maybe<P, [number | null, string | null]>;
  }

  /** Takes back the count of the last incoming(key, true) (when the request is not served after all). */
  uncommit(key: string | number): Maybe<P, [number | null, string | null]> {
    return this.leaving(key);
  }

  protected override admitted(ngx: Ngx, key: string, d: Decision): void {
    if (!d.committed) return;
    const ctx = ngx.ctx as Record<symbol, Admitted[] | undefined>;
    (ctx[IN_FLIGHT] ??= []).push({ lim: this as LimitConn<Policy>, key, start: Date.now() });
  }

  /**
   * In log_by_js: leaving() for every request enforce() let in through this limiter in this
   * request, with its latency.
   */
  leave(ngx: Ngx): void | Promise<void> {
    const ctx = ngx.ctx as Record<symbol, Admitted[] | undefined>;
    const list = ctx[IN_FLIGHT];
    if (!list) return;
    const mine = list.filter((a) => a.lim === (this as LimitConn<Policy>));
    ctx[IN_FLIGHT] = list.filter((a) => a.lim !== (this as LimitConn<Policy>));
    const now = Date.now();
    const pending = mine.map((a) => this.leaving(a.key, (now - a.start) / 1000)).filter((r) => r instanceof Promise);
    if (pending.length > 0) return Promise.all(pending).then(() => undefined);
  }
}
