// A conf's regex (location ~, rewrite, if, map, server_name ~, gzip_disable, proxy_cookie_*) is
// PCRE to nginx: it goes through the translation ngx.re uses (src/pcre.ts), so \A, \z, POSIX
// classes, a leading (?i), (?P<name>) and `$` before a final newline mean what nginx makes of them.
// Throws with the reason; the caller names the directive's file and line.

import { translate } from '../pcre.js';

export function confRegex(src: string, caseless: boolean): RegExp {
  const t = translate(src, caseless ? 'i' : '');
  // atomic groups and possessive quantifiers add hidden groups: $1.. would no longer be the
  // pattern's own (ngx.re maps them back; a conf's captures are read straight from the match)
  if (t.groups.some((g, i) => g !== i)) throw new Error('atomic groups and possessive quantifiers are not supported in a conf regex');
  return new RegExp(t.source, caseless || t.flags.includes('i') ? 'i' : '');
}
