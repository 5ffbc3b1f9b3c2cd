// $invalid_referer (nginx's referer module): '1' when the Referer is not one valid_referers
// names, '' when it is (or when the location has no valid_referers). The host is compared
// lower-cased up to its first ':' or '/', then the URI prefix a name asked for; `~regex`es see
// the Referer after its scheme, the server_names regexes its host.

import type { RefererConf } from '../config/types.js';
import type { Req } from '../request/req.js';

const INVALID = '1';
const VALID = '';

function hostMatch(c: RefererConf, host: string): string | undefined {
  const e = c.exact.get(host);
  if (e !== undefined) return e;
  for (const w of c.head) if (host.endsWith(w.suffix) && host.length > w.suffix.length) return w.uri;
  for (const w of c.tail) if (host.startsWith(w.prefix) && host.length > w.prefix.length) return w.uri;
  return undefined;
}

export function invalidReferer(r: Req, c: RefererConf | null): string {
  if (c === null) return VALID;
  const h = r.inHeaders.referer;
  const ref = typeof h === 'string' ? h : h?.[0];
  if (ref === undefined) return c.none ? VALID : INVALID;
  // nginx looks for a scheme only in a Referer at least as long as "http://i.ru".
  let rest: string | null = null;
  if (ref.length >= 11) {
    const low = ref.slice(0, 8).toLowerCase();
    if (low.startsWith('http://')) rest = ref.slice(7);
    else if (low === 'https://') rest = ref.slice(8);
  }
  if (rest === null) return c.blocked ? VALID : INVALID;
  let end = 0;
  while (end < rest.length && rest[end] !== '/' && rest[end] !== ':') end++;
  // nginx's buffer holds 256 bytes of host.
  if (end > 256) return INVALID;
  const host = rest.slice(0, end).toLowerCase();
  const uri = hostMatch(c, host);
  if (uri !== undefined) {
    if (uri === '') return VALID;
    const slash = rest.indexOf('/', end);
    return slash >= 0 && rest.startsWith(uri, slash) ? VALID : INVALID;
  }
  for (const re of c.hostRegexes) if (re.test(host)) return VALID;
  for (const re of c.regexes) if (re.test(rest)) return VALID;
  return INVALID;
}
