// The options every limiter takes (the 4th/5th argument of new(), tresty's addition to
// lua-resty-limit-traffic's signatures), validated once when the limiter is made.
import { TrestyError } from '../errors.js';

export type Policy = 'local' | 'redis';

export interface RedisOptions {
  /** `redis://user:pass@host:port/db`; or host, port ... below. */
  readonly url?: string;
  readonly host?: string;
  readonly port?: number;
  readonly username?: string;
  readonly password?: string;
  readonly db?: number;
  /** Bound on connecting and on each command, in ms (default 500). */
  readonly timeout?: number;
  /** Prefix of every key (default `tresty:limit`). */
  readonly prefix?: string;
}

export interface LimitOptions {
  /** `local` (default): the js_shared_dict zone named by the first argument, exact across this
   * machine's workers. `redis`: one Redis shared by several machines. */
  readonly policy?: Policy;
  readonly redis?: RedisOptions;
  /** When Redis cannot answer in time: `open` (default) lets requests through, `closed` turns
   * them away (enforce() answers 503). Logged once per logInterval, not per request. */
  readonly fail?: 'open' | 'closed';
  /** The status enforce() answers when over the limit (default 503, as nginx's limit_req_status). */
  readonly status?: number;
  /** enforce() adds X-RateLimit-Limit and X-RateLimit-Remaining, and Retry-After when it rejects. */
  readonly headers?: boolean;
  /** limit_req: enforce() lets requests within the burst through at once (nginx's `nodelay`). */
  readonly nodelay?: boolean;
  /** Seconds between two log lines about a failing Redis (default 10). */
  readonly logInterval?: number;
  /** Where failure lines go; default: the request's error log in enforce(), else stderr. */
  readonly log?: (message: string) => void;
}

export interface Resolved {
  readonly policy: Policy;
  readonly redis: Required<Pick<RedisOptions, 'timeout' | 'prefix'>> & RedisOptions;
  readonly fail: 'open' | 'closed';
  readonly status: number;
  readonly headers: boolean;
  readonly nodelay: boolean;
  readonly logIntervalMs: number;
  readonly log: ((message: string) => void) | undefined;
}

function bad(what: string): TrestyError {
  return new TrestyError('TRESTY_ERR_API_ARGS', `tresty/limit: ${what}`);
}

/** A positive finite number (the limits of new()). */
export function positive(v: unknown, name: string, zeroOk = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!zeroOk && v === 0)) {
    throw bad(`"${name}" must be a ${zeroOk ? 'non-negative' : 'positive'} number, got ${String(v)}`);
  }
  return v;
}

export function resolveOptions(o: LimitOptions | undefined): Resolved {
  const opts = o ?? {};
  if (typeof opts !== 'object') throw bad('options must be an object');
  const policy = opts.policy ?? 'local';
  if (policy !== 'local' && policy !== 'redis') throw bad(`unknown policy "${String(policy)}" (local or redis)`);
  const fail = opts.fail ?? 'open';
  if (fail !== 'open' && fail !== 'closed') throw bad(`"fail" must be "open" or "closed", got "${String(fail)}"`);
  const status = opts.status ?? 503;
  if (!Number.isInteger(status) || status < 400 || status > 599) throw bad(`"status" must be a 4xx or 5xx code, got ${String(status)}`);
  const r = opts.redis ?? {};
  const timeout = r.timeout ?? 500;
  positive(timeout, 'redis.timeout');
  if (r.port !== undefined && (!Number.isInteger(r.port) || r.port < 1 || r.port > 65535)) throw bad(`bad redis.port ${String(r.port)}`);
  const logInterval = opts.logInterval ?? 10;
  positive(logInterval, 'logInterval', true);
  if (opts.log !== undefined && typeof opts.log !== 'function') throw bad('"log" must be a function');
  return {
    policy,
    redis: { ...r, timeout, prefix: r.prefix ?? 'tresty:limit' },
    fail,
    status,
    headers: opts.headers === true,
    nodelay: opts.nodelay === true,
    logIntervalMs: logInterval * 1000,
    log: opts.log,
  };
}
