// ssl_stapling_file, ssl_stapling_responder, ssl_stapling_verify (ssl_stapling itself is in
// directives-conf2.ts). ssl_stapling_file: a DER OCSP response stapled instead of asking the
// responder; it is read where the engine's contexts are made, and one that cannot be read fails
// the start naming this line. ssl_stapling_responder: nginx checks its URL only when it sets
// stapling up for a certificate (a warning, never a refusal: src/tls/ocsp-plan.ts), so the conf
// checks arguments only.

import type { BlockState } from './builders.js';
import { type DirectiveRow, flagError } from './table.js';
import { parseFlag } from './values.js';

export const sslStaplingDirectives: readonly DirectiveRow[] = [
  {
    name: 'ssl_stapling_file', contexts: ['http', 'server'], args: [1, 1],
    apply(d, s: BlockState, ctx) {
      const x = (s.settings!.ssl ??= {});
      x.staplingFile = ctx.abs(d.args[0]);
      x.staplingRef = { file: d.file, line: d.line };
    },
  },
  {
    name: 'ssl_stapling_responder', contexts: ['http', 'server'], args: [1, 1],
    apply(d, s: BlockState) { (s.settings!.ssl ??= {}).staplingResponder = d.args[0]; },
  },
  {
    name: 'ssl_stapling_verify', contexts: ['http', 'server'], args: [1, 1],
    apply(d, s: BlockState) {
      const v = parseFlag(d.args[0]);
      if (v === null) throw flagError(d);
      (s.settings!.ssl ??= {}).staplingVerify = v;
    },
  },
];
