// nginx's standard http directives tresty applies beyond the core set: server_tokens, and the
// on/off flags of StdFlags (redirects, log_not_found, chunked_transfer_encoding, merge_slashes),
// resolver and resolver_timeout.

import type { Directive } from './ast.js';
import type { BlockState } from './builders.js';
import { resolverServers } from './resolver-addr.js';
import { confError, type DirectiveRow, flagError } from './table.js';
import type { StdFlags } from './types.js';
import { parseFlag, parseTime } from './values.js';

const HSL = ['http', 'server', 'location'] as const;

/** A flag whose `on`/`off` (as `departs`) is the departure from nginx's default. */
function flag(name: string, key: keyof StdFlags, departs: boolean, contexts: DirectiveRow['contexts'] = HSL): DirectiveRow {
  return {
    name, contexts, args: [1, 1],
    apply(d, s: BlockState) {
      const v = parseFlag(d.args[0]);
      if (v === null) throw flagError(d);
      (s.settings!.std ??= {})[key] = v === departs;
    },
  };
}

/** The merged flags with the ones back at nginx's default dropped (an empty object for none). */
export function stdFlags(m: Partial<Record<keyof StdFlags, boolean>>): StdFlags {
  const out: Record<string, true> = {};
  for (const [k, v] of Object.entries(m)) if (v) out[k] = true;
  return out as StdFlags;
}

export const stdDirectives: readonly DirectiveRow[] = [
  {
    name: 'resolver', contexts: HSL, args: [1, 16],
    apply(d, s, ctx) {
      const servers: string[] = [];
      let validMs: number | null = null;
      let ipv4 = true;
      let ipv6 = true;
      for (const a of d.args) {
        const m = /^(valid|ipv4|ipv6)=(.*)$/.exec(a);
        if (!m) { servers.push(...resolverServers(d, a, ctx)); continue; }
        if (m[1] === 'valid') {
          validMs = parseTime(m[2]!);
          if (validMs === null) throw confError('TRESTY_ERR_CONF_VALUE', `invalid parameter: ${a}`, d);
        } else {
          const f = parseFlag(m[2]!);
          if (f === null) throw confError('TRESTY_ERR_CONF_VALUE', `invalid parameter: ${a}`, d);
          if (m[1] === 'ipv4') ipv4 = f; else ipv6 = f;
        }
      }
      if (!ipv4 && !ipv6) throw confError('TRESTY_ERR_CONF_VALUE', '"ipv4" and "ipv6" cannot both be "off"', d);
      if (servers.length === 0) throw confError('TRESTY_ERR_CONF_ARGS', `invalid number of arguments in "${d.name}" directive`, d);
      s.settings!.resolver = { servers, validMs, ipv4, ipv6 };
    },
  },
  {
    name: 'resolver_timeout', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const ms = parseTime(d.args[0]);
      if (ms === null || ms === 0) throw confError('TRESTY_ERR_CONF_VALUE', `"${d.name}" directive invalid value "${d.args[0]}"`, d);
      s.settings!.resolverTimeout = ms;
    },
  },
  flag('absolute_redirect', 'relativeRedirect', false),
  flag('server_name_in_redirect', 'serverNameInRedirect', true),
  flag('port_in_redirect', 'noPortInRedirect', false),
  flag('log_not_found', 'noLogNotFound', false),
  flag('chunked_transfer_encoding', 'noChunked', false),
  flag('merge_slashes', 'noMergeSlashes', false, ['http', 'server']),
  flag('log_subrequest', 'logSubrequest', true),
  flag('uninitialized_variable_warn', 'noUninitializedWarn', false, [...HSL, 'lif']),
  {
    // nginx reads it from the location (or the server, for the server's script), not from an
    // if: one inside an if is taken and changes nothing the script logs.
    name: 'rewrite_log', contexts: [...HSL, 'sif', 'lif'], args: [1, 1],
    apply(d, s: BlockState) {
      const v = parseFlag(d.args[0]);
      if (v === null) throw flagError(d);
      if (s.kind !== 'sif' && s.kind !== 'lif') (s.settings!.std ??= {}).rewriteLog = v;
    },
  },
  {
    // Per location, inherited (nginx's): std.serverTokens; the http level's also names tresty
    // in the answers no location decides (src/http/software.ts).
    name: 'server_tokens', contexts: ['http', 'server', 'location'], args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v !== 'on' && v !== 'off' && v !== 'build') {
        throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${v}" in "${d.name}" directive, it must be "on", "off" or "build"`, d);
      }
      (s.settings!.std ??= {}).serverTokens = v !== 'off';
      if (s.kind === 'http') s.http!.serverTokens = v !== 'off';
    },
  },
];
