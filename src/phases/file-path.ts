// The file a URI names in a location (nginx's ngx_http_map_uri_to_path): `root` + URI, or with
// `alias` the alias in place of the part of the URI the location's prefix matched; in a regex
// location the alias, with the location's captures ($1...) and variables, is the whole path. A
// `root` with variables is evaluated per request, relative to the prefix.

import path from 'node:path';
import type { LocationConf } from '../config/types.js';
import type { Req } from '../request/req.js';
import { compileTemplate } from './template.js';

export type PathMapper = (r: Req, uri: string) => string;

export function pathMapper(loc: LocationConf, prefix: string): PathMapper {
  const alias = loc.files.alias;
  if (alias === undefined) {
    if (loc.root.includes('$')) {
      const rt = compileTemplate(loc.root);
      return (r, uri) => path.resolve(prefix, rt(r)) + uri;
    }
    const root = path.resolve(prefix, loc.root);
    return (_r, uri) => root + uri;
  }
  const t = compileTemplate(alias.path);
  const re = alias.regex;
  if (re !== null) {
    return (r, uri) => {
      const m = re.exec(uri);
      if (m === null) return t(r);
      const prev = r.captures;
      r.captures = m;
      try { return t(r); } finally { r.captures = prev; }
    };
  }
  return (r, uri) => t(r) + uri.slice(alias.strip);
}
