// ngx_http_auth_request_module: `auth_request URI | off` and `auth_request_set $var value`
// (http, server, location). What they do per request: phases/auth-request.ts.

import type { Directive } from './ast.js';
import type { AccessSettings } from './access-merge.js';
import type { BlockState } from './builders.js';
import { confError, type DirectiveRow } from './table.js';
import { isFixedVar } from './var-names.js';

const HSL = ['http', 'server', 'location'] as const;

function access(s: BlockState): AccessSettings {
  return (s.settings!.access ??= {});
}

/** nginx adds the variable as changeable: a built-in that is not refuses ("the duplicate"). */
function variableOf(d: Directive): string {
  const a = d.args[0];
  if (!a.startsWith('$') || a.length < 2) throw confError('TRESTY_ERR_CONF_VALUE', `invalid variable name "${a}"`, d);
  const name = a.slice(1).toLowerCase();
  if (isFixedVar(name)) throw confError('TRESTY_ERR_CONF_DUPLICATE', `the duplicate "${a.slice(1)}" variable`, d);
  return name;
}

export const authRequestDirectives: readonly DirectiveRow[] = [
  {
    name: 'auth_request', contexts: HSL, args: [1, 1],
    apply(d, s) { access(s).authRequest = d.args[0] === 'off' ? false : d.args[0]; },
  },
  {
    name: 'auth_request_set', contexts: HSL, args: [2, 2], multiple: true,
    apply(d, s) {
      const variable = variableOf(d);
      // Declared as `set` declares one; at the http level, in every server (resolve.ts).
      if (s.server) s.server.variables.add(variable);
      else (s.http!.declared ??= new Set()).add(variable);
      const a = access(s);
      // The block's own list replaces its parent's (nginx merges the array as a whole).
      if (!s.seen.has('auth_request_set:list')) { s.seen.add('auth_request_set:list'); a.authRequestSet = []; }
      a.authRequestSet!.push({ variable, value: d.args[1] });
    },
  },
];
