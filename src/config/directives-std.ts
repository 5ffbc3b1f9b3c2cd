// nginx's standard http directives tresty applies beyond the core set: server_tokens, and the
// on/off flags of StdFlags (redirects, log_not_found, chunked_transfer_encoding, merge_slashes).

import type { BlockState } from './builders.js';
import { confError, type DirectiveRow, flagError } from './table.js';
import type { StdFlags } from './types.js';
import { parseFlag } from './values.js';

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
  flag('absolute_redirect', 'relativeRedirect', false),
  flag('server_name_in_redirect', 'serverNameInRedirect', true),
  flag('port_in_redirect', 'noPortInRedirect', false),
  flag('log_not_found', 'noLogNotFound', false),
  flag('chunked_transfer_encoding', 'noChunked', false),
  flag('merge_slashes', 'noMergeSlashes', false, ['http', 'server']),
  flag('log_subrequest', 'logSubrequest', true),
  flag('uninitialized_variable_warn', 'noUninitializedWarn', false, [...HSL, 'lif']),
  {
    // One value per worker (src/http/software.ts): `on` anywhere without an `off` anywhere turns
    // the version on, so a block that hides it is never overruled by one that shows it.
    name: 'server_tokens', contexts: ['http', 'server', 'location'], args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v !== 'on' && v !== 'off' && v !== 'build') {
        throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${v}" in "${d.name}" directive, it must be "on", "off" or "build"`, d);
      }
      (s.http!.serverTokens ??= []).push(v);
    },
  },
];
