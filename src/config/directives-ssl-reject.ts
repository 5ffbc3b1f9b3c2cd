// ssl_reject_handshake (nginx 1.19.4+): a server with it on refuses the handshakes that reach it,
// those whose SNI name chose it and, for the default server of an address, those with no name or
// one no server has, with an `unrecognized_name` alert. Such a server needs no certificate.

import type { BlockState } from './builders.js';
import { type DirectiveRow, flagError } from './table.js';
import { parseFlag } from './values.js';

export const sslRejectDirectives: readonly DirectiveRow[] = [
  {
    name: 'ssl_reject_handshake', contexts: ['http', 'server'], args: [1, 1],
    apply(d, s: BlockState) {
      const f = parseFlag(d.args[0]);
      if (f === null) throw flagError(d);
      (s.settings!.ssl ??= {}).rejectHandshake = f;
    },
  },
];
