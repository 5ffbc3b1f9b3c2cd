// `upstream NAME { ... }` and what it holds: server lines with nginx's parameters, the balancing
// method (round robin by default, least_conn, hash KEY [consistent], ip_hash), keepalive to the
// servers, and balancer_by_js_* (a handler that picks the peer of every try).

import type { Directive } from './ast.js';
import type { BlockState } from './builders.js';
import type { UpstreamBuilder } from './builders-gateway.js';
import { handler } from './directives-js.js';
import { confError, type DirectiveRow, invalidValue } from './table.js';
import type { UpstreamServerConf } from './types.js';
import { parseListenAddress, parseTime } from './values.js';

function up(s: BlockState): UpstreamBuilder {
  return s.upstream!;
}

function count(d: Directive, v: string, min: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min) throw invalidValue(d, v);
  return Number(v);
}

function time(d: Directive, v: string): number {
  const t = parseTime(v);
  if (t === null) throw invalidValue(d, v);
  return t;
}

/** `server ADDRESS [weight=N] [max_fails=N] [fail_timeout=T] [max_conns=N] [backup] [down]`. */
function serverLine(d: Directive): UpstreamServerConf {
  const [addr, ...params] = d.args;
  let host: string;
  let port: number;
  if (addr.startsWith('unix:')) {
    host = addr;
    port = 0;
  } else {
    const a = parseListenAddress(addr);
    if ('error' in a || a.host === '') throw confError('TRESTY_ERR_CONF_VALUE', `invalid address "${addr}" of the "server" directive`, d);
    ({ host, port } = a);
  }
  const s = {
    name: addr, host, port, weight: 1, maxFails: 1, failTimeout: 10_000, maxConns: 0, backup: false, down: false,
    ref: { file: d.file, line: d.line },
  };
  for (const p of params) {
    const eq = p.indexOf('=');
    const key = eq < 0 ? p : p.slice(0, eq);
    const val = eq < 0 ? '' : p.slice(eq + 1);
    if (key === 'weight' && eq > 0) s.weight = count(d, val, 1);
    else if (key === 'max_fails' && eq > 0) s.maxFails = count(d, val, 0);
    else if (key === 'max_conns' && eq > 0) s.maxConns = count(d, val, 0);
    else if (key === 'fail_timeout' && eq > 0) s.failTimeout = time(d, val);
    else if (p === 'backup') s.backup = true;
    else if (p === 'down') s.down = true;
    else throw confError('TRESTY_ERR_CONF_VALUE', `invalid parameter "${p}"`, d);
  }
  return s;
}

function policy(d: Directive, s: BlockState, p: UpstreamBuilder['policy']): void {
  const u = up(s);
  if (u.policy !== undefined) throw confError('TRESTY_ERR_CONF_DUPLICATE', 'load balancing method redefined', d);
  u.policy = p;
}

export const upstreamDirectives: readonly DirectiveRow[] = [
  {
    name: 'upstream', contexts: ['http'], args: [1, 1], block: 'block', multiple: true,
    apply(d, s, ctx) {
      const name = d.args[0];
      const http = s.http!;
      http.upstreams ??= new Map();
      if (http.upstreams.has(name)) throw confError('TRESTY_ERR_CONF_DUPLICATE', `duplicate upstream "${name}"`, d);
      const u: UpstreamBuilder = { name, ref: { file: d.file, line: d.line }, servers: [] };
      http.upstreams.set(name, u);
      ctx.walk(d.block!, { kind: 'upstream', main: s.main, http, upstream: u, seen: new Set() });
    },
  },
  {
    name: 'server', contexts: ['upstream'], args: [1, 8], multiple: true,
    apply(d, s) { up(s).servers.push(serverLine(d)); },
  },
  { name: 'keepalive', contexts: ['upstream'], args: [1, 1], apply(d, s) { up(s).keepalive = count(d, d.args[0], 1); } },
  { name: 'keepalive_requests', contexts: ['upstream'], args: [1, 1], apply(d, s) { up(s).keepaliveRequests = count(d, d.args[0], 1); } },
  {
    // `keepalive_timeout` (and `server`) are also http directives: rows are found by name and context.
    name: 'keepalive_timeout', contexts: ['upstream'], args: [1, 1],
    apply(d, s) { up(s).keepaliveTimeout = time(d, d.args[0]); },
  },
  { name: 'keepalive_time', contexts: ['upstream'], args: [1, 1], apply(d, s) { up(s).keepaliveTime = time(d, d.args[0]); } },
  { name: 'least_conn', contexts: ['upstream'], args: [0, 0], apply(d, s) { policy(d, s, 'least_conn'); } },
  { name: 'ip_hash', contexts: ['upstream'], args: [0, 0], apply(d, s) { policy(d, s, 'ip_hash'); } },
  {
    name: 'hash', contexts: ['upstream'], args: [1, 2],
    apply(d, s) {
      if (d.args[1] !== undefined && d.args[1] !== 'consistent') throw confError('TRESTY_ERR_CONF_VALUE', `invalid parameter "${d.args[1]}"`, d);
      policy(d, s, 'hash');
      up(s).hashKey = d.args[0];
      up(s).consistent = d.args[1] === 'consistent';
    },
  },
  // Accepted for nginx confs: each worker keeps its own peer state, as nginx does without a zone.
  { name: 'zone', contexts: ['upstream'], args: [1, 2], apply() {} },
  {
    name: 'balancer_by_js_block', contexts: ['upstream'], args: [0, 0], block: 'raw', dupKey: 'balancer_by_js',
    apply(d, s, ctx) { up(s).balancer = handler('balancer', d, ctx); },
  },
  {
    name: 'balancer_by_js_file', contexts: ['upstream'], args: [1, 1], dupKey: 'balancer_by_js',
    apply(d, s, ctx) { up(s).balancer = handler('balancer', d, ctx, d.args[0]); },
  },
];
