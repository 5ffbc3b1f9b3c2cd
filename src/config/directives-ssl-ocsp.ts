// ssl_ocsp, ssl_ocsp_responder, ssl_ocsp_cache (nginx 1.19.0+): client certificates checked with
// their issuer's OCSP responder. tresty does not make those checks, on either engine. The
// directives are taken with nginx's checks of their values, since on nginx they do nothing unless
// client certificates are verified; `ssl_ocsp on | leaf` where ssl_verify_client is on (or
// optional) is refused (gateway-merge.ts): serving without the revocation check the conf asks for
// would let revoked certificates in.

import type { BlockState } from './builders.js';
import { confError, type DirectiveRow } from './table.js';
import { parseSize } from './values.js';

export const sslOcspDirectives: readonly DirectiveRow[] = [
  {
    name: 'ssl_ocsp', contexts: ['http', 'server'], args: [1, 1],
    apply(d, s: BlockState) {
      const v = d.args[0];
      if (v !== 'on' && v !== 'off' && v !== 'leaf') throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${v}"`, d);
      const x = (s.settings!.ssl ??= {});
      x.ocsp = v === 'off' ? null : { file: d.file, line: d.line };
    },
  },
  // nginx checks the URL only when it sets the check up (never here: see above)
  { name: 'ssl_ocsp_responder', contexts: ['http', 'server'], args: [1, 1], apply() {} },
  {
    name: 'ssl_ocsp_cache', contexts: ['http', 'server'], args: [1, 1],
    apply(d) {
      const v = d.args[0];
      if (v === 'off') return;
      const m = /^shared:([^:]+):(.+)$/.exec(v);
      const size = m ? parseSize(m[2]!) : null;
      if (size === null) throw confError('TRESTY_ERR_CONF_VALUE', `invalid OCSP cache "${v}"`, d);
      // nginx's floor: 8 memory pages
      if (size < 8 * 4096) throw confError('TRESTY_ERR_CONF_VALUE', `OCSP cache "${v}" is too small`, d);
    },
  },
];
