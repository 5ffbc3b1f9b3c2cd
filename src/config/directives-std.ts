// nginx's standard http directives tresty applies beyond the core set: server_tokens.

import { confError, type DirectiveRow } from './table.js';

export const stdDirectives: readonly DirectiveRow[] = [
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
