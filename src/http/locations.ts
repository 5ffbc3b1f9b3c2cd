// Location lookup with nginx's rules (ngx_http_core_find_location), per level of nesting:
//   1. `= uri` exact match: done.
//   2. the longest matching prefix (`/p` or `^~ /p`); its nested locations are searched the same
//      way first (so a nested regex beats an outer one);
//   3. unless that prefix was `^~`, this level's `~`/`~*` regexes in conf order: the first match
//      wins (and its own nested locations are searched);
//   4. else the longest prefix of step 2.
import type { LocationConf, ServerConf } from '../config/types.js';

interface Level {
  exact: Map<string, LocationConf>;
  /** Longest first, so the first match is the longest. */
  prefixes: LocationConf[];
  regexes: { loc: LocationConf; re: RegExp }[];
}

// Built once per list of locations (the conf is frozen, so the arrays are stable keys).
const levels = new WeakMap<readonly LocationConf[], Level>();

/** The level found last: a server's top level is asked for on every request, and a WeakMap
 *  lookup each time showed in a small request's profile. */
let lastList: readonly LocationConf[] | null = null;
let lastLevel: Level | null = null;

function levelOf(list: readonly LocationConf[]): Level {
  if (list === lastList) return lastLevel!;
  let lv = levels.get(list);
  if (lv) {
    lastList = list;
    lastLevel = lv;
    return lv;
  }
  lv = { exact: new Map(), prefixes: [], regexes: [] };
  for (const loc of list) {
    switch (loc.modifier) {
      case '=':
        if (!lv.exact.has(loc.pattern)) lv.exact.set(loc.pattern, loc);
        break;
      case '':
      case '^~':
        lv.prefixes.push(loc);
        break;
      case '~':
      case '~*':
        lv.regexes.push({ loc, re: plainRegex(loc) });
        break;
      default: // named locations are reached only by name
    }
  }
  lv.prefixes.sort((a, b) => b.pattern.length - a.pattern.length);
  levels.set(list, lv);
  return lv;
}

/** A RegExp without g/y, whose `exec` keeps no state between requests. */
function plainRegex(loc: LocationConf): RegExp {
  const re = loc.regex;
  if (re && !re.global && !re.sticky) return re;
  const flags = (re?.flags ?? (loc.modifier === '~*' ? 'i' : '')).replace(/[gy]/g, '');
  return new RegExp(re?.source ?? loc.pattern, flags);
}

/** `m`: the match of the regex location that won (its captures become $1.., as nginx's). */
export interface Found { loc: LocationConf | null; final: boolean; m: RegExpExecArray | null }

function find(list: readonly LocationConf[], uri: string, current: LocationConf | null): Found {
  if (list.length === 0) return { loc: current, final: false, m: null };
  const lv = levelOf(list);
  const exact = lv.exact.get(uri);
  if (exact) return { loc: exact, final: true, m: null };

  let loc = current;
  let noregex = false;
  for (const p of lv.prefixes) {
    if (!uri.startsWith(p.pattern)) continue;
    noregex = p.modifier === '^~';
    const nested = find(p.locations, uri, p);
    if (nested.final) return nested;
    loc = nested.loc;
    break;
  }
  if (!noregex) {
    for (const { loc: r, re } of lv.regexes) {
      const m = re.exec(uri);
      if (m === null) continue;
      // A nested regex's captures replace the outer one's, as each regex nginx runs does.
      const nested = find(r.locations, uri, r);
      return { loc: nested.loc, final: true, m: nested.m ?? m };
    }
  }
  return { loc, final: false, m: null };
}

/** The location serving `uri` (the decoded path, no args), or null: then the server's defaults apply. */
export function findLocation(server: ServerConf, uri: string): LocationConf | null {
  return find(server.locations, uri, null).loc;
}

/** findLocation with the winning regex location's match (null when no regex chose it). */
export function locateIn(server: ServerConf, uri: string): Found {
  return find(server.locations, uri, null);
}

/** `@name` locations (for error_page, ngx.exec); `name` may be given with or without the `@`. */
export function findNamedLocation(server: ServerConf, name: string): LocationConf | null {
  const bare = name.startsWith('@') ? name.slice(1) : name;
  return server.namedLocations.get('@' + bare) ?? server.namedLocations.get(bare) ?? null;
}
