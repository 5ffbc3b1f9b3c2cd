// nginx's secure_link module: `secure_link EXPR` with `secure_link_md5 EXPR` (the MD5 mode), or
// `secure_link_secret WORD` (the older mode, a location's URI `/prefix/HASH/link`). How they
// inherit is nginx's merge: a block with a secret takes nothing else, and one with neither
// secure_link nor secure_link_md5 inherits its parent's secret. $secure_link: api/secure-link.ts.

import type { SourceRef } from './types.js';
import { confError, type DirectiveRow } from './table.js';
import { templateParts } from './template-parts.js';
import type { SecureLinkConf } from './types-access.js';

/** What a block writes (undefined: not written there). */
export interface SecureLinkSettings {
  variable?: string;
  md5?: string;
  secret?: string;
  /** The http block's end, where nginx reports a mix (its merge runs there). */
  httpEnd?: SourceRef;
}

/** The merged values along the blocks (null: unset). */
export interface MergedSecureLink {
  readonly variable: string | null;
  readonly md5: string | null;
  readonly secret: string | null;
}

export const SECURE_LINK_DEFAULTS: MergedSecureLink = { variable: null, md5: null, secret: null };

export function mergeSecureLink(parent: MergedSecureLink, own: SecureLinkSettings | undefined): MergedSecureLink {
  if (own === undefined) return parent;
  if (own.secret !== undefined) {
    if (own.variable !== undefined || own.md5 !== undefined) {
      throw confError('TRESTY_ERR_CONF_VALUE', '"secure_link_secret" cannot be mixed with "secure_link" and "secure_link_md5"',
        own.httpEnd ?? { file: '', line: 0 });
    }
    return { variable: null, md5: null, secret: own.secret };
  }
  const variable = own.variable ?? parent.variable;
  const md5 = own.md5 ?? parent.md5;
  return { variable, md5, secret: variable === null && md5 === null ? parent.secret : null };
}

export function secureLinkConf(m: MergedSecureLink): SecureLinkConf | null {
  if (m.secret !== null) return { mode: 'secret', secret: m.secret };
  if (m.variable === null && m.md5 === null) return null;
  return {
    mode: 'md5',
    variable: m.variable === null ? null : templateParts(m.variable),
    md5: m.md5 === null ? null : templateParts(m.md5),
  };
}

function row(name: string, key: 'variable' | 'md5' | 'secret'): DirectiveRow {
  return {
    name, contexts: ['http', 'server', 'location'], args: [1, 1],
    apply(d, s) {
      const own = (s.settings!.secureLink ??= {});
      own[key] = d.args[0];
      own.httpEnd = s.http?.end;
    },
  };
}

export const secureLinkDirectives: readonly DirectiveRow[] = [
  row('secure_link', 'variable'),
  row('secure_link_md5', 'md5'),
  row('secure_link_secret', 'secret'),
];
