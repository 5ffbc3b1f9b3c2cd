// tresty/balancer: lua-resty-core's ngx.balancer for balancer_by_js handlers. Each function
// takes the handler's `ngx` first (the try it acts on), then the arguments of its Lua
// namesake, and answers Lua's multiple returns as an array:
//
//   balancer_by_js_block {
//     const { balancer } = await import('tresty/balancer');
//     const peer = await lookup(ngx.var.host);                 // may await: the handler is async
//     const [ok, err] = balancer.set_current_peer(ngx, peer.host, peer.port);
//     if (!ok) ngx.log(ngx.ERR, 'failed to set the peer: ', err);
//   }

import { TrestyError } from '../errors.js';
import { balancerTries, type BalancerTry } from '../proxy/balancer-state.js';

function tryOf(ngx: object, fn: string): BalancerTry {
  const t = balancerTries.get(ngx);
  if (t === undefined) {
    throw new TrestyError('TRESTY_ERR_API_DISABLED', `tresty/balancer: ${fn} is only allowed in balancer_by_js*, with that handler's ngx`);
  }
  return t;
}

/** The server of this try. `host` is an address (or a name, resolved when connecting). */
export function set_current_peer(ngx: object, host: string, port?: number): [true] | [null, string] {
  const t = tryOf(ngx, 'set_current_peer');
  if (typeof host !== 'string' || host === '') return [null, 'no host allowed'];
  let h = host;
  let p = port;
  if (p === undefined) {
    // `host:port` in one string, as some callers keep their peers.
    const m = /^(.*):(\d+)$/.exec(host);
    if (!m || m[1].includes(':') && !m[1].startsWith('[')) return [null, 'no port given'];
    h = m[1].replace(/^\[|\]$/g, '');
    p = Number(m[2]);
  }
  if (!Number.isInteger(p) || p! < 1 || p! > 65535) return [null, `invalid port: ${String(p)}`];
  t.peer = { host: h, port: p! };
  return [true];
}

/** More tries after this one if it fails; capped by proxy_next_upstream_tries. */
export function set_more_tries(ngx: object, count: number): [true] | [true, string] {
  const t = tryOf(ngx, 'set_more_tries');
  if (!Number.isInteger(count) || count < 0) throw new TrestyError('TRESTY_ERR_API_ARGS', 'tresty/balancer: set_more_tries needs a count >= 0');
  const total = t.triesSoFar + t.moreTries;
  if (t.maxTries > 0 && total + count > t.maxTries) {
    t.moreTries += Math.max(0, t.maxTries - total);
    return [true, 'reduced tries due to limit'];
  }
  t.moreTries += count;
  return [true];
}

/** Why the previous try failed: ['failed', status] (error, timeout), ['next', status] (a status proxy_next_upstream lists), or [null] on the first try. */
export function get_last_failure(ngx: object): [string | null, number?] {
  const f = tryOf(ngx, 'get_last_failure').lastFailure;
  return f === null ? [null] : [f[0], f[1]];
}

/** Timeouts in seconds for this try and the ones after it; null keeps the proxy_*_timeout value. */
export function set_timeouts(ngx: object, connect: number | null, send: number | null, read: number | null): [true] | [null, string] {
  const t = tryOf(ngx, 'set_timeouts');
  const ms = (v: number | null, name: string): number | string | null => {
    if (v === null || v === undefined) return null;
    return typeof v === 'number' && v > 0 ? Math.round(v * 1000) : `bad ${name} timeout`;
  };
  const c = ms(connect, 'connect');
  const s = ms(send, 'send');
  const r = ms(read, 'read');
  for (const x of [c, s, r]) if (typeof x === 'string') return [null, x];
  t.timeouts = { connect: c as number | null, send: s as number | null, read: r as number | null };
  return [true];
}

export const balancer = { set_current_peer, set_more_tries, get_last_failure, set_timeouts };
export default balancer;
