// `map` variables, evaluated when first read (nginx's ngx_http_map_variable): the source string
// is matched against exact strings (ignoring case), then with `hostnames` the longest `*.x` and
// `x.*` wildcards, then the regexes in conf order; the value is a template that may use the
// regex's captures. A regex with captures leaves them as the request's $1.. and named ones as
// variables, as nginx's does.

import type { MapConf, TemplateParts } from '../config/types.js';
import type { Req } from '../request/req.js';

type Get = (r: Req, name: string) => string | undefined;

export function evalParts(r: Req, parts: TemplateParts, get: Get): string {
  let s = '';
  for (const p of parts) s += typeof p === 'string' ? p : (get(r, p.name) ?? '');
  return s;
}

function lookup(r: Req, m: MapConf, key: string): TemplateParts {
  const exact = m.exact.get(key.toLowerCase());
  if (exact !== undefined) return exact;
  if (m.hostnames) {
    const low = key.toLowerCase();
    for (const w of m.startWild) if (low.endsWith(w.suffix) && low.length > w.suffix.length) return w.value;
    for (const w of m.endWild) if (low.startsWith(w.prefix) && low.length > w.prefix.length) return w.value;
  }
  for (const { regex, value } of m.regexes) {
    const hit = regex.exec(key);
    if (hit === null) continue;
    if (hit.length > 1) {
      r.captures = hit;
      if (hit.groups) {
        const vars = (r.vars ??= Object.create(null) as Record<string, string>);
        for (const [k, v] of Object.entries(hit.groups)) vars[k.toLowerCase()] = v ?? '';
      }
    }
    return value;
  }
  return m.defaultValue;
}

/** The value of map `m` for the request (cached by the caller unless the map is volatile). */
export function mapValue(r: Req, m: MapConf, get: Get): string {
  let key = evalParts(r, m.source, get);
  if (m.hostnames && key.endsWith('.')) key = key.slice(0, -1);
  return evalParts(r, lookup(r, m, key), get);
}
