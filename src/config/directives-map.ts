// nginx's map module: `map SOURCE $VAR { ... }` builds a variable evaluated when read (api/map.ts).
// The block is read here, not walked through the directive table: its lines are source/value
// pairs, not directives. map_hash_* size nginx's hash tables; tresty uses JS Maps instead.

import { confRegex } from './conf-regex.js';
import type { Directive } from './ast.js';
import { confError, type DirectiveRow } from './table.js';
import type { MapConf, TemplateParts } from './types-access.js';
import { templateParts } from './template-parts.js';
import { parseSize } from './values.js';
import { isFixedVar } from './var-names.js';

function regexOf(d: Directive, src: string, caseless: boolean): RegExp {
  try {
    return confRegex(src, caseless);
  } catch (e) {
    throw confError('TRESTY_ERR_CONF_VALUE', `pcre_compile() failed: ${(e as Error).message} in "${src}"`, d);
  }
}

/** Builds one map; `captures` collects the named groups of its regexes (they become variables). */
export function buildMap(d: Directive, captures: Set<string>): MapConf {
  const [src, dst] = d.args;
  if (!dst.startsWith('$') || dst.length < 2) throw confError('TRESTY_ERR_CONF_VALUE', `invalid variable name "${dst}"`, d);
  const variable = dst.slice(1).toLowerCase();
  if (isFixedVar(variable)) throw confError('TRESTY_ERR_CONF_DUPLICATE', `the duplicate "${dst.slice(1)}" variable`, d);
  const exact = new Map<string, TemplateParts>();
  const startWild: { suffix: string; value: TemplateParts }[] = [];
  const endWild: { prefix: string; value: TemplateParts }[] = [];
  const regexes: { regex: RegExp; value: TemplateParts }[] = [];
  let defaultValue: TemplateParts | null = null;
  let hostnames = false;
  let volatile = false;
  const seenWild = new Set<string>();
  for (const line of d.block ?? []) {
    let key = line.name;
    const n = line.args.length;
    if (n === 0 && (key === 'hostnames' || key === 'volatile')) {
      if (key === 'hostnames') hostnames = true;
      else volatile = true;
      continue;
    }
    if (line.block !== undefined || n !== 1) throw confError('TRESTY_ERR_CONF_ARGS', 'invalid number of the map parameters', line);
    const value = templateParts(line.args[0]);
    if (key === 'default') {
      if (defaultValue !== null) throw confError('TRESTY_ERR_CONF_DUPLICATE', 'duplicate default map parameter', line);
      defaultValue = value;
      continue;
    }
    // `\default`, `\hostnames`: a source string that is a special word (nginx strips the `\`).
    if (key.startsWith('\\')) key = key.slice(1);
    if (key.length > 1 && key.startsWith('~')) {
      const caseless = key.startsWith('~*');
      const regex = regexOf(line, key.slice(caseless ? 2 : 1), caseless);
      for (const g of key.matchAll(/\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/g)) captures.add(g[1].toLowerCase());
      regexes.push({ regex, value });
      continue;
    }
    const low = key.toLowerCase();
    const conflict = (): never => { throw confError('TRESTY_ERR_CONF_VALUE', `conflicting parameter "${key}"`, line); };
    if (hostnames && (low.startsWith('*.') || low.startsWith('.'))) {
      const suffix = low.startsWith('*') ? low.slice(1) : low;
      if (seenWild.has(`s${suffix}`)) conflict();
      seenWild.add(`s${suffix}`);
      startWild.push({ suffix, value });
      // `.a.com` is also the name a.com itself.
      if (low.startsWith('.')) {
        if (exact.has(low.slice(1))) conflict();
        exact.set(low.slice(1), value);
      }
      continue;
    }
    if (hostnames && low.endsWith('.*')) {
      const prefix = low.slice(0, -1);
      if (seenWild.has(`e${prefix}`)) conflict();
      seenWild.add(`e${prefix}`);
      endWild.push({ prefix, value });
      continue;
    }
    if (hostnames && low.includes('*')) throw confError('TRESTY_ERR_CONF_VALUE', `invalid hostname or wildcard "${key}"`, line);
    if (exact.has(low)) conflict();
    exact.set(low, value);
  }
  startWild.sort((a, b) => b.suffix.length - a.suffix.length);
  endWild.sort((a, b) => b.prefix.length - a.prefix.length);
  return {
    variable, source: templateParts(src), exact, startWild, endWild, regexes,
    defaultValue: defaultValue ?? [], hostnames, volatile,
  };
}

function hashSize(name: string): DirectiveRow {
  return {
    name, contexts: ['http'], args: [1, 1],
    apply(d) {
      if (parseSize(d.args[0]) === null) throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${d.args[0]}"`, d);
    },
  };
}

export const mapDirectives: readonly DirectiveRow[] = [
  {
    name: 'map', contexts: ['http'], args: [2, 2], block: 'block', multiple: true,
    apply(d, s) {
      const http = s.http!;
      const m = buildMap(d, (http.mapCaptures ??= new Set()));
      const maps = (http.maps ??= new Map());
      if (maps.has(m.variable)) throw confError('TRESTY_ERR_CONF_DUPLICATE', `the duplicate "${m.variable}" variable`, d);
      maps.set(m.variable, m);
    },
  },
  hashSize('map_hash_max_size'),
  hashSize('map_hash_bucket_size'),
];
