// What the three limiters share: where their counters live (a shared dict, or Redis), the
// shape of incoming()'s results, and enforce(): the access-phase answer (wait, or reject with
// the configured status and headers).
import type { Ngx } from '../api/ngx.js';
import { TrestyError } from '../errors.js';
import { type SharedDict, sharedDicts } from '../shared/index.js';
import { type Decision, type LimitResult, toResult } from './decision.js';
import { type LimitOptions, type Policy, type Resolved, resolveOptions } from './options.js';
import { RedisStore } from './redis.js';

/** A result now (local policy) or later (redis). */
export type Maybe<P extends Policy, T> = P extends 'redis' ? Promise<T> : T;

export type Logger = (message: string) => void;

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown })?.then === 'function';
}

export abstract class Limiter<P extends Policy = 'local'> {
  protected readonly o: Resolved;
  protected readonly dict: SharedDict | null;
  protected readonly redis: RedisStore | null;

  constructor(readonly dictName: string, opts: LimitOptions | undefined) {
    this.o = resolveOptions(opts);
    if (typeof dictName !== 'string' || dictName === '') throw new TrestyError('TRESTY_ERR_API_ARGS', 'tresty/limit: the first argument names a js_shared_dict');
    if (this.o.policy === 'redis') {
      this.dict = null;
      this.redis = new RedisStore(this.o);
    } else {
      const d = sharedDicts()[dictName];
      if (!d) throw new TrestyError('TRESTY_ERR_API_ARGS', `tresty/limit: js_shared_dict "${dictName}" not found (declare it in http {})`);
      this.dict = d;
      this.redis = null;
    }
  }

  /** The local or Redis decision for one request (`log` gets failures, when given). */
  protected abstract decide(key: string, commit: boolean, log?: Logger): Decision | Promise<Decision>;

  /** What enforce() does once the request is let through (limit_conn remembers it). */
  protected admitted(_ngx: Ngx, _key: string, _d: Decision): void { /* nothing by default */ }

  /**
   * lua-resty-limit-traffic's incoming(): [delay, value] when the request may go on (value: the
   * excess for limit_req, the connections for limit_conn, the remaining for limit_count), or
   * [null, "rejected"] over the limit, [null, err] when the store failed.
   */
  incoming(key: string | number, commit: boolean): Maybe<P, LimitResult> {
    const d = this.decide(String(key), commit);
    return (isPromise(d) ? d.then(toResult) : toResult(d)) as Maybe<P, LimitResult>;
  }

  /**
   * The access-phase answer for `key`: a request within the limit goes on (after its delay,
   * unless nodelay), one over it gets the configured status (with X-RateLimit-* and Retry-After
   * when `headers` is on). A Redis failing closed is answered 503, a store error 500 (logged).
   * Returns a promise only when it must wait (Redis, a delay), so that a plain handler
   * `(ngx) => lim.enforce(ngx, key)` costs no promise on the local policy's usual path.
   */
  enforce(ngx: Ngx, key: string | number): void | Promise<void> {
    const k = String(key);
    const log: Logger = (m) => ngx.log(ngx.ERR, m);
    const d = this.decide(k, true, log);
    return isPromise(d) ? d.then((x) => this.act(ngx, k, x, log)) : this.act(ngx, k, d, log);
  }

  private act(ngx: Ngx, key: string, d: Decision, log: Logger): void | Promise<void> {
    if (this.o.headers && !d.failed) {
      const h = ngx.header;
      h['X-RateLimit-Limit'] = String(d.limit);
      h['X-RateLimit-Remaining'] = String(Math.max(0, Math.floor(d.remaining)));
      if (!d.ok) h['Retry-After'] = String(Math.max(1, Math.ceil(d.retryAfter)));
    }
    if (!d.ok) {
      if (d.err === 'rejected') return ngx.exit(this.o.status);
      if (d.err === 'unavailable') return ngx.exit(503);
      log(`tresty/limit: ${this.constructor.name} on "${this.dictName}" failed: ${d.err}`);
      return ngx.exit(500);
    }
    this.admitted(ngx, key, d);
    if (d.delay >= 0.001 && !this.o.nodelay) return ngx.sleep(d.delay);
  }
}
