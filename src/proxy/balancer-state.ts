// The state of one balancer_by_js call (one try of a proxied request), which the tresty/balancer
// functions read and set. It is found by the handler's ngx object: each request has its own, so
// a handler that awaits (a service-discovery lookup) still sets the peer of its own request.

export interface BalancerTry {
  /** Set by set_current_peer; null leaves the choice to the upstream's own servers. */
  peer: { host: string; port: number } | null;
  /** Added by set_more_tries, taken by the proxy after the call. */
  moreTries: number;
  /** Why the previous try failed: ['failed' | 'next', status?], or null on the first try. */
  readonly lastFailure: readonly [string, number?] | null;
  /** set_timeouts, in ms; null (or a null field) keeps the proxy_*_timeout values. */
  timeouts: { connect: number | null; send: number | null; read: number | null } | null;
  /** proxy_next_upstream_tries (0 = no limit) and the tries counted so far, for set_more_tries. */
  readonly maxTries: number;
  readonly triesSoFar: number;
}

export const balancerTries = new WeakMap<object, BalancerTry>();
