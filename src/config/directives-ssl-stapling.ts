// ssl_stapling_file: a DER OCSP response the engine's TLS staples (ssl_stapling on) to handshakes
// that ask for one, as nginx does with it instead of querying the responder. The file is read
// where the engine's contexts are made; one that cannot be read fails the start naming this line.
// ssl_stapling_responder names the responder nginx would ask: tresty asks none (ssl_stapling on
// without a file warns at start), so it is accepted and unused. nginx checks its URL only when it
// sets stapling up for a certificate (a warning, never a refusal), so the conf checks arguments only.

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
  { name: 'ssl_stapling_responder', contexts: ['http', 'server'], args: [1, 1], apply() { /* no fetch: see above */ } },
];
