// Location matching against nginx's documented precedence (the example of
// https://nginx.org/en/docs/http/ngx_http_core_module.html#location) plus nesting, in a table.
import { describe, expect, it } from 'vitest';
import type { LocationConf, ServerConf } from '../src/config/types.js';
import { findLocation, findNamedLocation } from '../src/http/locations.js';

type Mod = LocationConf['modifier'];
function loc(modifier: Mod, pattern: string, nested: LocationConf[] = []): LocationConf {
  const regex = modifier === '~' ? new RegExp(pattern) : modifier === '~*' ? new RegExp(pattern, 'i') : undefined;
  return { modifier, pattern, regex, locations: nested } as unknown as LocationConf;
}
function server(locations: LocationConf[], named: LocationConf[] = []): ServerConf {
  return { locations, namedLocations: new Map(named.map((l) => [l.pattern, l])) } as unknown as ServerConf;
}

const L = {
  A: loc('=', '/'),
  B: loc('', '/'),
  C_PDF: loc('~', '\\.pdf$'),
  C_DEEP: loc('', '/documents/deep/'),
  D_PNG: loc('~', '\\.png$'),
  E: loc('~*', '\\.(gif|jpg|jpeg)$'),
  F: loc('~', '\\.(pdf|txt)$'),
  X: loc('=', '/exact'),
  Y: loc('', '/exact'),
  S: loc('^~', '/api/static/'),
  CSS: loc('~', '\\.css$'),
  N: loc('@', '@named'),
} as const;
const C = loc('', '/documents/', [L.C_PDF, L.C_DEEP]);
const D = loc('^~', '/images/', [L.D_PNG]);
const API = loc('', '/api/', [L.S]);
const byName = new Map<LocationConf, string>([...Object.entries(L).map(([k, v]) => [v, k] as const), [C, 'C'], [D, 'D'], [API, 'API']]);

// Conf order matters for regexes: E before F before CSS.
const srv = server([L.A, L.B, C, D, L.E, L.F, L.X, L.Y, API, L.CSS], [L.N]);

const table: [uri: string, expected: string, why: string][] = [
  // nginx's documented example
  ['/', 'A', '= exact match wins'],
  ['/index.html', 'B', 'only the / prefix matches'],
  ['/documents/document.html', 'C', 'longest prefix, no regex matches'],
  ['/images/1.gif', 'D', '^~ prefix stops the regex search'],
  ['/documents/1.jpg', 'E', 'a regex beats the longest prefix'],
  // regexes in conf order, ~* case-insensitive
  ['/a.GIF', 'E', '~* ignores case'],
  ['/a.JPG', 'E', '~* ignores case'],
  ['/x.txt', 'F', 'first matching regex in conf order'],
  ['/x.PDF', 'B', '~ is case-sensitive: no regex matches'],
  // nested locations
  ['/documents/1.pdf', 'C_PDF', 'a nested regex is tried before the outer ones (F also matches)'],
  ['/documents/deep/a.html', 'C_DEEP', 'nested longest prefix'],
  ['/documents/deep/a.txt', 'F', 'no nested regex matches: the outer regexes are tried'],
  ['/images/1.png', 'D_PNG', 'regexes nested in a ^~ location still apply'],
  ['/images', 'B', '/images/ needs its slash'],
  // exact versus prefix of the same name
  ['/exact', 'X', '= wins over the prefix of the same text'],
  ['/exact/more', 'Y', '= never matches as a prefix'],
  ['/exactly', 'Y', 'plain prefix of a longer word'],
  // ^~ stops regexes only at its own level (ngx_http_core_find_location's noregex is per level)
  ['/api/static/x.js', 'S', 'nested ^~ prefix'],
  ['/api/static/x.css', 'CSS', 'outer regexes still run after a nested ^~ (parent /api/ is not ^~)'],
  ['/api/x.css', 'CSS', 'regex beats the prefix'],
  ['/api/x', 'API', 'prefix'],
];

describe('findLocation', () => {
  it.each(table)('%s → %s (%s)', (uri, expected) => {
    // Twice: regex objects must keep no state between requests.
    for (let i = 0; i < 2; i++) {
      const found = findLocation(srv, uri);
      expect(found && byName.get(found)).toBe(expected);
    }
  });

  it('returns null when nothing matches (the server defaults apply)', () => {
    const s = server([loc('', '/only/'), loc('~', '\\.php$')]);
    expect(findLocation(s, '/nothing')).toBeNull();
    expect(findLocation(s, '/only/x')?.pattern).toBe('/only/');
    expect(findLocation(server([]), '/')).toBeNull();
  });

  it('named locations are found only by name', () => {
    expect(findNamedLocation(srv, '@named')).toBe(L.N);
    expect(findNamedLocation(srv, 'named')).toBe(L.N);
    expect(findNamedLocation(srv, '@missing')).toBeNull();
    expect(findLocation(srv, '@named')).toBeNull(); // not a path: no prefix, and never the named one
  });

  it('a regex given with the g flag keeps no lastIndex state', () => {
    const g = { modifier: '~', pattern: 'a', regex: /a/g, locations: [] } as unknown as LocationConf;
    const s = server([g]);
    for (let i = 0; i < 3; i++) expect(findLocation(s, '/a')).toBe(g);
  });
});
