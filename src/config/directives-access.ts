// nginx's access module (`allow`, `deny`), `satisfy`, and the realip module (`set_real_ip_from`,
// `real_ip_header`, `real_ip_recursive`). What they do per request: phases/access-rules.ts and
// phases/realip.ts.

import type { Directive } from './ast.js';
import type { AccessSettings } from './access-merge.js';
import { parseCidr } from './addr.js';
import { type BlockState, newSettings } from './builders.js';
import { confError, type DirectiveRow, flagError } from './table.js';
import type { AccessRule } from './types-access.js';
import { parseFlag } from './values.js';

const HSL = ['http', 'server', 'location'] as const;

function access(s: BlockState): AccessSettings {
  return (s.settings!.access ??= {});
}

/** `ADDR`, `ADDR/BITS`, `unix:` or `all`. */
export function parseRule(d: Directive, deny: boolean): AccessRule {
  const v = d.args[0];
  const ref = { file: d.file, line: d.line };
  const none = new Uint8Array(0);
  if (v === 'all') return { deny, kind: 'all', addr: none, mask: none, ref };
  if (v === 'unix:') return { deny, kind: 'unix', addr: none, mask: none, ref };
  const c = parseCidr(v);
  if (c === null) throw confError('TRESTY_ERR_CONF_VALUE', `invalid parameter "${v}"`, d);
  return { deny, kind: c.addr.length === 4 ? 'v4' : 'v6', addr: c.addr, mask: c.mask, ref };
}

function rule(name: 'allow' | 'deny'): DirectiveRow {
  return {
    name, contexts: [...HSL, 'limit_except'] as DirectiveRow['contexts'], args: [1, 1], multiple: true,
    apply(d, s) { (access(s).accessRules ??= []).push(parseRule(d, name === 'deny')); },
  };
}

export const accessDirectives: readonly DirectiveRow[] = [
  rule('allow'),
  rule('deny'),
  {
    name: 'satisfy', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v !== 'all' && v !== 'any') {
        throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${v}" in "satisfy" directive, it must be "all" or "any"`, d);
      }
      access(s).satisfyAny = v === 'any';
    },
  },
  {
    name: 'set_real_ip_from', contexts: HSL, args: [1, 1], multiple: true,
    apply(d, s) { (access(s).realFrom ??= []).push(parseRule(d, false)); },
  },
  {
    name: 'real_ip_header', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const h = d.args[0].toLowerCase();
      // tresty's listen has no proxy_protocol: there would be no address to take.
      if (h === 'proxy_protocol') {
        throw confError('TRESTY_ERR_CONF_VALUE', 'real_ip_header proxy_protocol is not supported: tresty\'s listen has no proxy_protocol', d);
      }
      access(s).realHeader = h;
    },
  },
  {
    name: 'real_ip_recursive', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = parseFlag(d.args[0]);
      if (v === null) throw flagError(d);
      access(s).realRecursive = v;
    },
  },
];

/** auth_basic (ngx_http_auth_basic_module): phases/auth-basic.ts checks the user file. */
export const authDirectives: readonly DirectiveRow[] = [
  {
    name: 'auth_basic', contexts: [...HSL, 'limit_except'] as DirectiveRow['contexts'], args: [1, 1],
    apply(d, s) { access(s).authBasic = d.args[0] === 'off' ? false : d.args[0]; },
  },
  {
    name: 'auth_basic_user_file', contexts: [...HSL, 'limit_except'] as DirectiveRow['contexts'], args: [1, 1],
    apply(d, s, ctx) {
      const a = access(s);
      a.authBasicUserFile = d.args[0];
      a.authConfDir = ctx.confDir ?? ctx.prefix;
    },
  },
];

/** The methods limit_except may name (nginx's list). */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'MKCOL', 'COPY', 'MOVE', 'OPTIONS', 'PROPFIND', 'PROPPATCH', 'LOCK', 'UNLOCK', 'PATCH']);

/** `limit_except METHOD ... { allow/deny/auth_basic ... }`: the block applies to the other methods. */
export const limitExceptDirectives: readonly DirectiveRow[] = [
  {
    name: 'limit_except', contexts: ['location'], args: [1, 16], block: 'block',
    apply(d, s, ctx) {
      const methods = new Set<string>();
      for (const a of d.args) {
        const m = a.toUpperCase();
        if (!METHODS.has(m)) throw confError('TRESTY_ERR_CONF_VALUE', `invalid method "${a}"`, d);
        methods.add(m);
        if (m === 'GET') methods.add('HEAD');
      }
      const settings = newSettings();
      s.location!.limitExcept = { methods: [...methods], settings };
      ctx.walk(d.block!, { kind: 'limit_except', main: s.main, http: s.http, server: s.server, location: s.location, settings, seen: new Set() });
    },
  },
];
