// ngx.shared.DICT: lua-resty-core's shdict API over a zone. Lua's multiple returns come back as
// arrays of the same values in the same order, Lua's nil as null:
//   const [ok, err, forcible] = dict.set('k', 'v', 10);     const [v, flags] = dict.get('k');
// Argument errors that lua-resty-core raises (a negative exptime, a non-number incr) throw
// TRESTY_ERR_API_ARGS; the errors it returns ("exists", "no memory" ...) are returned.

import { TrestyError } from '../errors.js';
import { exptimeMs, flagsOf, keyError, keyOf, listKeyOf, msOf, numberArg } from './lua-args.js';
import { OP, SCRATCH as S, ST, shdictAddon, type ZoneApi, type ZoneStats } from './native.js';

export type ShdictValue = string | number | boolean;
/** [ok, err, forcible] */
export type StoreResult = [ok: boolean | null, err: string | null, forcible: boolean | null];

const NIL_KEY = 'nil key';

// The usual results, shared and frozen: a store that succeeds allocates nothing.
const STORED: StoreResult = Object.freeze([true, null, false]) as StoreResult;
const STORED_FORCIBLE: StoreResult = Object.freeze([true, null, true]) as StoreResult;

/** Errors lua-resty-core finds before calling C: returned as [nil, err] (no forcible). */
function argError(st: number): boolean {
  return st === ST.EMPTY_KEY || st === ST.KEY_TOO_LONG || st === ST.BAD_VALUE;
}

export class SharedDict {
  /**
   * `replay`: this view belongs to init_by_js's re-run in a worker. The master's run already
   * wrote the zone; writes here are skipped (and report success), so a worker that starts, or
   * is respawned after a crash, never resets what the workers have written since.
   */
  constructor(
    /** The zone's name (`js_shared_dict NAME`). */
    readonly name: string,
    private readonly z: ZoneApi,
    private readonly replay = false,
  ) {}

  private err(st: number): string {
    return shdictAddon().errors[st] ?? `error ${st}`;
  }

  /** [value, flags]: value null when the key is missing or expired; flags null when 0. */
  get(key: unknown): [ShdictValue | null, number | string | null] {
    const k = keyOf(key);
    if (k === null) return [null, NIL_KEY];
    const v = this.z.get(k, false);
    const st = S[0];
    if (st !== ST.OK) return [null, this.err(st)];
    if (v === undefined) return [null, null];
    const f = S[1];
    return [v, f === 0 ? null : f | 0];
  }

  /** [value, flags, stale]: also an expired value not yet reclaimed (stale = true). */
  get_stale(key: unknown): [ShdictValue | null, number | string | null, boolean | null] {
    const k = keyOf(key);
    if (k === null) return [null, NIL_KEY, null];
    const v = this.z.get(k, true);
    const st = S[0];
    if (st !== ST.OK) return [null, this.err(st), null];
    if (v === undefined) return [null, null, null];
    const f = S[1];
    return [v, f === 0 ? null : f | 0, S[2] !== 0];
  }

  private store(op: number, key: unknown, value: unknown, exptime: unknown, flags: unknown): StoreResult {
    const ms = exptimeMs(exptime);
    const k = keyOf(key);
    if (k === null) return [null, NIL_KEY, null];
    if (flags !== undefined && flags !== null && typeof flags !== 'number' && typeof flags !== 'boolean') {
      // Flags of another type raise in the FFI call, once lua-resty-core has returned the
      // key's and the value's errors.
      const bad = keyError(k) ?? (value == null || ['string', 'number', 'boolean'].includes(typeof value) ? null : 'bad value type');
      if (bad !== null) return [null, bad, null];
    }
    const f = flagsOf(flags);
    if (this.replay) return STORED;
    let st: number;
    if (op === OP.SET && ms === 0 && f === 0) {
      this.z.set(k, value);
      st = S[0];
    } else {
      st = this.z.store(op, k, value, ms, f >>> 0);
    }
    if (st === ST.OK) return S[2] !== 0 ? STORED_FORCIBLE : STORED;
    return this.storeFailed(st, k);
  }

  private storeFailed(st: number, k: string): StoreResult {
    // The addon looks at the value first; lua-resty-core at the key first.
    if (st === ST.BAD_VALUE) return [null, keyError(k) ?? this.err(st), null];
    if (argError(st)) return [null, this.err(st), null];
    return [false, this.err(st), S[2] !== 0];
  }

  /** Stores the value (null or undefined deletes), evicting least recently used entries when full (forcible). */
  set(key: unknown, value: unknown, exptime?: number, flags?: number): StoreResult {
    if (typeof key === 'string' && exptime === undefined && flags === undefined && !this.replay) {
      // The usual call, straight to the zone (every check below would pass).
      this.z.set(key, value);
      const st = S[0];
      if (st === ST.OK) return S[2] !== 0 ? STORED_FORCIBLE : STORED;
      return this.storeFailed(st, key);
    }
    return this.store(OP.SET, key, value, exptime, flags);
  }
  /** Like set, but answers [false, "no memory"] rather than evict. */
  safe_set(key: unknown, value: unknown, exptime?: number, flags?: number): StoreResult {
    return this.store(OP.SET | OP.SAFE, key, value, exptime, flags);
  }
  /** Stores only when the key is missing (or expired): else [false, "exists"]. */
  add(key: unknown, value: unknown, exptime?: number, flags?: number): StoreResult {
    return this.store(OP.ADD, key, value, exptime, flags);
  }
  safe_add(key: unknown, value: unknown, exptime?: number, flags?: number): StoreResult {
    return this.store(OP.ADD | OP.SAFE, key, value, exptime, flags);
  }
  /** Stores only when the key exists: else [false, "not found"]. */
  replace(key: unknown, value: unknown, exptime?: number, flags?: number): StoreResult {
    return this.store(OP.REPLACE, key, value, exptime, flags);
  }
  delete(key: unknown): StoreResult {
    return this.store(OP.SET, key, null, 0, 0);
  }

  /**
   * [newValue, err, forcible]: adds `value` to a number. A missing key is [null, "not found"]
   * unless `init` is given: then it starts at init (expiring after init_ttl seconds, if given).
   */
  incr(key: unknown, value: unknown, init?: unknown, init_ttl?: unknown): [number | null, string | null, boolean | null] {
    if (typeof key === 'string' && typeof value === 'number' && init_ttl === undefined && !this.replay) {
      // The usual calls, straight to the zone.
      if (init === undefined) {
        const v = this.z.incr(key, value);
        const st = S[0];
        return st === ST.OK ? [v, null, null] : [null, this.err(st), null];
      }
      if (typeof init === 'number') {
        const v = this.z.incrInit(key, value, true, init, 0);
        const st = S[0];
        return st === ST.OK ? [v, null, S[2] !== 0] : [null, this.err(st), null];
      }
    }
    const k = keyOf(key);
    if (k === null) return [null, NIL_KEY, null];
    // lua-resty-core's order: the key's errors are returned before the numbers are looked at.
    const bad = keyError(k);
    if (bad !== null) return [null, bad, null];
    const delta = numberArg(value, 'value');
    const hasInit = init !== undefined && init !== null && init !== false;
    const start = hasInit ? numberArg(init, 'init') : 0;
    let ttl = 0;
    if (init_ttl !== undefined && init_ttl !== null) {
      const t = numberArg(init_ttl, 'init_ttl');
      if (t < 0) throw new TrestyError('TRESTY_ERR_API_ARGS', 'bad "init_ttl" argument');
      if (!hasInit) throw new TrestyError('TRESTY_ERR_API_ARGS', 'must provide "init" when providing "init_ttl"');
      ttl = msOf(t);
    }
    if (this.replay) return [this.peekNumber(k, hasInit ? start : null), null, hasInit ? false : null];
    const v = hasInit ? this.z.incrInit(k, delta, true, start, ttl) : this.z.incr(k, delta);
    const st = S[0];
    if (st !== ST.OK) return [null, this.err(st), null];
    return [v, null, hasInit ? S[2] !== 0 : null];
  }

  private peekNumber(k: string, dflt: number | null): number | null {
    const v = this.z.get(k, false);
    return typeof v === 'number' ? v : dflt;
  }

  private push(left: boolean, key: unknown, value: unknown): [number | null | false, string | null] {
    const k = listKeyOf(key, left ? 'lpush' : 'rpush');
    if (k === null) return [null, NIL_KEY];
    if (this.replay) return this.llen(k);
    const st = this.z.push(left, k, value);
    if (st === ST.OK) return [S[1], null];
    // The addon looks at the value first; lua-nginx-module at the key first.
    if (st === ST.BAD_VALUE) return [null, keyError(k) ?? this.err(st)];
    // lua-nginx-module: false when a new list's entry found no room, nil when its element did not.
    return [st === ST.NO_MEMORY && S[1] === 0 ? false : null, this.err(st)];
  }
  /** [length, err]: inserts at the head of the list at key (a missing key starts a list). */
  lpush(key: unknown, value: string | number): [number | null | false, string | null] {
    return this.push(true, key, value);
  }
  /** [length, err]: inserts at the tail. */
  rpush(key: unknown, value: string | number): [number | null | false, string | null] {
    return this.push(false, key, value);
  }

  private pop(left: boolean, key: unknown): [string | number | null, string | null] {
    const k = listKeyOf(key, left ? 'lpop' : 'rpop');
    if (k === null) return [null, NIL_KEY];
    if (this.replay) return [null, null];
    const v = this.z.pop(left, k);
    const st = S[0];
    if (st !== ST.OK) return [null, this.err(st)];
    return [v === undefined ? null : v, null];
  }
  /** [value, err]: removes and returns the head of the list (null when there is none). */
  lpop(key: unknown): [string | number | null, string | null] {
    return this.pop(true, key);
  }
  rpop(key: unknown): [string | number | null, string | null] {
    return this.pop(false, key);
  }

  /** [length, err]: 0 for a missing key. */
  llen(key: unknown): [number | null, string | null] {
    const k = listKeyOf(key, 'llen');
    if (k === null) return [null, NIL_KEY];
    const st = this.z.llen(k);
    if (st !== ST.OK) return [null, this.err(st)];
    return [S[1], null];
  }

  /** [seconds, err]: the time left (ms precision), 0 when it never expires, or [null, "not found"]. */
  ttl(key: unknown): [number | null, string | null] {
    const k = keyOf(key);
    if (k === null) return [null, NIL_KEY];
    const st = this.z.ttl(k);
    if (st !== ST.OK) return [null, this.err(st)];
    return [S[1] / 1000, null];
  }

  /** [ok, err]: sets the time left to exptime seconds (0: never expires). */
  expire(key: unknown, exptime: number): [true | null, string | null] {
    // lua-resty-core's order: no exptime (nil, false) raises, then the key's errors are
    // returned, then `exptime * 1000` converts it (a string as tonumber does) or raises.
    if (exptime === undefined || exptime === null || (exptime as unknown) === false) throw new TrestyError('TRESTY_ERR_API_ARGS', 'bad "exptime" argument');
    const k = keyOf(key);
    if (k === null) return [null, NIL_KEY];
    const bad = keyError(k);
    if (bad !== null) return [null, bad];
    const ms = msOf(numberArg(exptime, 'exptime'));
    if (this.replay) return [true, null];
    const st = this.z.expire(k, ms);
    if (st !== ST.OK) return [null, this.err(st)];
    return [true, null];
  }

  /** Makes every entry expired (their memory is reclaimed as operations meet them, or by flush_expired). */
  flush_all(): void {
    if (!this.replay) this.z.flushAll();
  }

  /** Frees expired entries (at most `max`, 0 = all); returns how many. */
  flush_expired(max = 0): number {
    if (this.replay) return 0;
    return this.z.flushExpired(Math.max(0, Math.trunc(Number(max) || 0)));
  }

  /** The live keys, least recently used first: at most `max` (default 1024, 0 = all). */
  get_keys(max = 1024): string[] {
    return this.z.keys(Math.max(0, Math.trunc(Number(max) || 0)));
  }

  /** The zone's size in bytes. */
  capacity(): number {
    return this.z.stats().capacity;
  }

  /** Free bytes in the zone (in blocks of any size). */
  free_space(): number {
    return this.z.stats().free;
  }

  /**
   * tresty/limit's leaky bucket (lua-resty-limit-traffic's limit.req, atomic under the zone's
   * lock): [accepted, excess in thousandths of a request, err]. rate and burst in thousandths.
   * `whole`: in whole thousandths, as nginx's limit_req counts (the drain rounded down).
   */
  leaky(key: string, rate: number, burst: number, commit: boolean, whole = false): [boolean, number, string | null] {
    if (this.replay) return [true, 0, null];
    const st = this.z.leaky(key, rate, burst, commit, whole);
    if (st === ST.OK) return [true, S[1], null];
    if (st === ST.REJECTED) return [false, S[1], null];
    return [false, 0, st === ST.BAD_VALUE ? 'shdict abused by other users' : this.err(st)];
  }

  /** tresty/limit: takes one committed request back out of a leaky bucket. */
  leakyUncommit(key: string, rate: number): [true | null, string | null] {
    if (this.replay) return [true, null];
    const st = this.z.leakyUncommit(key, rate);
    return st === ST.OK ? [true, null] : [null, this.err(st)];
  }

  /**
   * limit_conn's place for `key`, checked and taken under the zone's lock (nginx's order: no
   * refused request is ever counted): [taken, the count with this request, err].
   */
  connTake(key: string, max: number): [boolean, number, string | null] {
    if (this.replay) return [true, 0, null];
    const st = this.z.connTake(key, max);
    if (st === ST.OK) return [true, S[1], null];
    if (st === ST.REJECTED) return [false, S[1], null];
    return [false, 0, this.err(st)];
  }

  /** tresty's own: the zone's counters, including the robust lock's recoveries. */
  stats(): ZoneStats {
    return this.z.stats();
  }

  /** tresty's own: null when every invariant of the zone holds, else the first that does not. */
  check(): string | null {
    return this.z.check();
  }
}
