// nginx's referer module: `valid_referers none | blocked | server_names | HOST[/URI] | ~REGEX ...`
// (http, server, location; the lines of a block add up, a block with its own replaces its
// parent's) and the referer_hash_* sizes (tresty uses JS Maps). $invalid_referer: api/referer.ts.

import type { Directive } from './ast.js';
import type { BlockState } from './builders.js';
import { confRegex } from './conf-regex.js';
import { confError, type DirectiveRow } from './table.js';
import type { RefererConf } from './types-access.js';

/** The valid_referers of one block while it is walked. */
export interface RefererBuilder {
  none: boolean;
  blocked: boolean;
  exact: Map<string, string>;
  head: { suffix: string; uri: string }[];
  tail: { prefix: string; uri: string }[];
  hostRegexes: RegExp[];
  regexes: RegExp[];
  seen: Set<string>;
  ref: { file: string; line: number };
}

/** nginx's ngx_hash_add_key for a wildcard key: exact, `*.a` / `.a` heads, `a.*` tails. */
function addKey(b: RefererBuilder, d: Directive, written: string, uri: string): void {
  const key = written.toLowerCase();
  const bad = (): never => { throw confError('TRESTY_ERR_CONF_VALUE', `invalid hostname or wildcard "${written}"`, d); };
  const conflict = (): never => { throw confError('TRESTY_ERR_CONF_VALUE', `conflicting parameter "${written}"`, d); };
  const once = (k: string): void => { if (b.seen.has(k)) conflict(); b.seen.add(k); };
  if (key.startsWith('*.') || key.startsWith('.')) {
    const suffix = key.startsWith('*') ? key.slice(1) : key;
    if (suffix.includes('*')) bad();
    once(`h${suffix}`);
    b.head.push({ suffix, uri });
    // `.a.com` is also the name a.com itself.
    if (key.startsWith('.')) { once(`e${suffix.slice(1)}`); b.exact.set(suffix.slice(1), uri); }
    return;
  }
  if (key.endsWith('.*')) {
    const prefix = key.slice(0, -1);
    if (prefix.includes('*')) bad();
    once(`t${prefix}`);
    b.tail.push({ prefix, uri });
    return;
  }
  if (key.includes('*')) bad();
  once(`e${key}`);
  b.exact.set(key, uri);
}

function regexOf(d: Directive, src: string): RegExp {
  try {
    return confRegex(src, true);
  } catch (e) {
    throw confError('TRESTY_ERR_CONF_VALUE', `pcre_compile() failed: ${(e as Error).message} in "${src}"`, d);
  }
}

function add(b: RefererBuilder, d: Directive, s: BlockState): void {
  for (const v of d.args) {
    if (v === '') throw confError('TRESTY_ERR_CONF_VALUE', 'invalid referer ""', d);
    if (v === 'none') { b.none = true; continue; }
    if (v === 'blocked') { b.blocked = true; continue; }
    if (v === 'server_names') {
      // The server's names written so far, as nginx reads them at this directive.
      for (const n of s.server?.serverNames ?? []) {
        if (n.kind === 'regex') b.hostRegexes.push(n.regex ?? regexOf(d, n.value.replace(/^~/, '')));
        else if (n.value !== '') addKey(b, d, n.value, '');
      }
      continue;
    }
    if (v.startsWith('~')) { b.regexes.push(regexOf(d, v.slice(1))); continue; }
    const slash = v.indexOf('/');
    addKey(b, d, slash < 0 ? v : v.slice(0, slash), slash < 0 ? '' : v.slice(slash));
  }
}

/** The frozen shape (null: no valid_referers, every Referer valid). */
export function refererConf(b: RefererBuilder | undefined): RefererConf | null {
  if (b === undefined) return null;
  if (b.exact.size === 0 && b.head.length === 0 && b.tail.length === 0 && b.hostRegexes.length === 0 && b.regexes.length === 0) {
    // nginx checks this when it merges the block; tresty names the block's first valid_referers.
    if (b.none || b.blocked) {
      throw confError('TRESTY_ERR_CONF_VALUE',
        'the "none" or "blocked" referers are specified in the "valid_referers" directive without any valid referer', b.ref);
    }
    return null;
  }
  return {
    none: b.none, blocked: b.blocked, exact: b.exact, hostRegexes: b.hostRegexes, regexes: b.regexes,
    head: [...b.head].sort((x, y) => y.suffix.length - x.suffix.length),
    tail: [...b.tail].sort((x, y) => y.prefix.length - x.prefix.length),
  };
}

function hashSize(name: string): DirectiveRow {
  return {
    name, contexts: ['http', 'server', 'location'], args: [1, 1],
    apply(d) {
      if (!/^\d+$/.test(d.args[0])) throw confError('TRESTY_ERR_CONF_VALUE', `"${d.name}" directive invalid number`, d);
    },
  };
}

export const refererDirectives: readonly DirectiveRow[] = [
  {
    name: 'valid_referers', contexts: ['http', 'server', 'location'], args: [1, 64], multiple: true,
    apply(d, s) {
      // The block's settings are its own: its lines add up, and replace what it inherits.
      const b = (s.settings!.referers ??= {
        none: false, blocked: false, exact: new Map(), head: [], tail: [], hostRegexes: [], regexes: [], seen: new Set(),
        ref: { file: d.file, line: d.line },
      });
      add(b, d, s);
    },
  },
  hashSize('referer_hash_max_size'),
  hashSize('referer_hash_bucket_size'),
];
