// ssl_stapling_file: a DER OCSP response the engine's TLS staples (ssl_stapling on) to handshakes
// that ask for one, as nginx does with it instead of querying the responder. The file is read
// where the engine's contexts are made; one that cannot be read fails the start naming this line.

import type { BlockState } from './builders.js';
import type { DirectiveRow } from './table.js';

export const sslStaplingDirectives: readonly DirectiveRow[] = [
  {
    name: 'ssl_stapling_file', contexts: ['http', 'server'], args: [1, 1],
    apply(d, s: BlockState, ctx) {
      const x = (s.settings!.ssl ??= {});
      x.staplingFile = ctx.abs(d.args[0]);
      x.staplingRef = { file: d.file, line: d.line };
    },
  },
];
