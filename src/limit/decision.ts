// What a limiter decides for one request, before it is shaped as lua-resty-limit-traffic's
// results ([delay, value] or [null, err]) or acted on by enforce().

export interface Decision {
  /** Within the limit (or let through because Redis failed open). */
  readonly ok: boolean;
  /** Seconds the request should wait (limit_req, limit_conn over max). */
  readonly delay: number;
  /** The second result of incoming(): excess (req), connections (conn), remaining (count). */
  readonly value: number;
  /** Why not ok: "rejected", "unavailable" (Redis failed closed), or a store error. */
  readonly err: string | null;
  /** For the headers: the limit, what is left, seconds until a retry can pass. */
  readonly limit: number;
  readonly remaining: number;
  readonly retryAfter: number;
  /** The store could not answer (Redis down or slow): nothing above is known. */
  readonly failed: boolean;
  /** limit_conn: this request was counted (leaving() must take it back). */
  readonly committed: boolean;
}

export type LimitResult = [delay: number, value: number] | [delay: null, err: string];

export function toResult(d: Decision): LimitResult {
  return d.ok ? [d.delay, d.value] : [null, d.err ?? 'rejected'];
}

export function failedDecision(open: boolean, limit: number): Decision {
  return {
    ok: open, delay: 0, value: 0, err: open ? null : 'unavailable', limit, remaining: 0, retryAfter: 0,
    failed: true, committed: false,
  };
}
