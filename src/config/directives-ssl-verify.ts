// Client certificates (nginx's ssl_verify_client and friends): whether a server asks the client
// for a certificate, the CAs it is verified against, how deep a chain may go, and revocation
// lists. The files are read where the TLS contexts are made (tls/contexts.ts); a missing or bad
// one fails the start and -t naming the directive's line.

import type { BlockState } from './builders.js';
import type { SslSettings } from './builders-gateway.js';
import { confError, type DirectiveRow, invalidValue } from './table.js';

const HS = ['http', 'server'] as const;

function ssl(s: BlockState): SslSettings {
  return (s.settings!.ssl ??= {});
}

const MODES = new Set(['on', 'optional', 'optional_no_ca']);

export const sslVerifyDirectives: readonly DirectiveRow[] = [
  {
    name: 'ssl_verify_client', contexts: HS, args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v !== 'off' && !MODES.has(v)) throw invalidValue(d, v);
      const x = ssl(s);
      // null: off, set here so that it overrides an outer level's mode
      x.verifyClient = v === 'off' ? null : (v as 'on' | 'optional' | 'optional_no_ca');
      x.verifyRef = { file: d.file, line: d.line };
    },
  },
  {
    name: 'ssl_client_certificate', contexts: HS, args: [1, 1],
    apply(d, s, ctx) { const x = ssl(s); x.clientCertificate = ctx.abs(d.args[0]); x.verifyFileRef = { file: d.file, line: d.line }; },
  },
  {
    name: 'ssl_trusted_certificate', contexts: HS, args: [1, 1],
    apply(d, s, ctx) { const x = ssl(s); x.trustedCertificate = ctx.abs(d.args[0]); x.verifyFileRef ??= { file: d.file, line: d.line }; },
  },
  {
    name: 'ssl_crl', contexts: HS, args: [1, 1],
    apply(d, s, ctx) { const x = ssl(s); x.crl = ctx.abs(d.args[0]); x.verifyFileRef ??= { file: d.file, line: d.line }; },
  },
  {
    name: 'ssl_verify_depth', contexts: HS, args: [1, 1],
    apply(d, s) {
      if (!/^\d{1,9}$/.test(d.args[0])) throw confError('TRESTY_ERR_CONF_VALUE', '"ssl_verify_depth" directive invalid number', d);
      ssl(s).verifyDepth = Number(d.args[0]);
    },
  },
];
