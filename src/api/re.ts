// ngx.re: OpenResty's regex API (PCRE) over JavaScript's RegExp, the pattern translated by
// src/pcre.ts; split is in re-split.ts. Options: a (sticky), d D j J o (accepted), i, m s x (by the translation), u U (JS u).
// Captures are arrays with [0] the whole match, [1..n] the groups (false when unmatched, as in
// Lua), named groups as keys.

import { TrestyError } from '../errors.js';
import { translate } from '../pcre.js';
import { split } from './re-split.js';

export type Captures = Array<string | false> & Record<string, string | false>;
export type Replacement = string | ((m: Captures) => string);

/** `groups`: the JS index of each capture the API gives; `ncaptures`: the pattern's groups. */
export interface Compiled { re: RegExp; groups: number[]; ncaptures: number }

const cache = new Map<string, Compiled>();
const OPTIONS = 'aDdiJjmosUux';

/** The JS RegExp of a PCRE regex + options, translated once and cached (src/pcre.ts). */
function compile(regex: string, options = ''): Compiled {
  const key = `${options}/${regex}`;
  let c = cache.get(key);
  if (c) { c.re.lastIndex = 0; return c; }
  for (const o of options) {
    if (!OPTIONS.includes(o)) throw new TrestyError('TRESTY_ERR_API_ARGS', `unknown flag "${o}" (flags "${options}")`);
  }
  // m, s and x are done by the translation; a (anchored) is the sticky flag.
  let flags = 'gd';
  if (options.includes('i')) flags += 'i';
  if (/[uU]/.test(options)) flags += 'u';
  if (options.includes('a')) flags += 'y';
  try {
    const t = translate(regex, options);
    if (t.flags.includes('i') && !flags.includes('i')) flags += 'i';
    // d (PCRE's DFA) gives the match only, no groups (observed on nginx + lua).
    const groups = options.includes('d') ? [0] : t.groups;
    c = { re: new RegExp(t.source, flags), groups, ncaptures: groups.length - 1 };
  } catch (e) {
    // OpenResty's words, then the reason (PCRE's and JavaScript's reasons differ).
    const why = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '');
    throw new TrestyError('TRESTY_ERR_API_ARGS', `pcre_compile() failed: ${why} in "${regex}"`);
  }
  if (cache.size > 1000) cache.clear();
  cache.set(key, c);
  return c;
}

/** PCRE's captures: [0] and the groups (false when unmatched, as Lua's), names as keys. */
function captures(m: RegExpExecArray, groups: number[]): Captures {
  const c = groups.map((g) => m[g] ?? false) as Captures;
  if (m.groups && groups.length > 1) for (const [k, v] of Object.entries(m.groups)) c[k] = v ?? false;
  return c;
}

const TEMPLATE = /\$(?:\$|\d+|\{(?:\d+|(\w+))\})|\$/g;

/** OpenResty refuses a `$` that starts nothing it knows and a `${name}` the regex does not have. */
function checkTemplate(template: string, re: RegExp): void {
  if (!template.includes('$')) return;
  for (const m of template.matchAll(TEMPLATE)) {
    if (m[0] === '$' || (m[1] !== undefined && !/^\d+$/.test(m[1]) && !re.source.includes(`(?<${m[1]}>`))) {
      throw new TrestyError('TRESTY_ERR_API_ARGS', 'failed to compile the replacement template');
    }
  }
}

/** Expands `$0`, `$1`, `${1}`, `${name}` and `$$` in a replacement template. */
function expand(template: string, c: Captures): string {
  return template.replace(TEMPLATE, (t: string, name?: string) => {
    if (t === '$$') return '$';
    const k = name ?? t.replace(/[${}]/g, '');
    return (/^\d+$/.test(k) ? c[Number(k)] : c[k]) || '';
  });
}

/** The first match from `ctx.pos` (1-based; the start without it), which then moves past it. */
function firstMatch(subject: string, regex: string, options: string | undefined, ctx: { pos?: number } | undefined): [RegExpExecArray, Compiled] | null {
  const c = compile(regex, options);
  const re = c.re;
  re.lastIndex = ctx?.pos && ctx.pos > 0 ? ctx.pos - 1 : 0;
  // PCRE's PCRE_ERROR_BADOFFSET, OpenResty's err (observed with ctx.pos 2 on "").
  if (re.lastIndex > subject.length) throw new TrestyError('TRESTY_ERR_API_ARGS', 'pcre_exec() failed: -24');
  const m = re.exec(subject);
  if (m && ctx) ctx.pos = m.index + m[0].length + 1;
  return m ? [m, c] : null;
}

export const RE = {
  /** The first match's captures, or null. `ctx.pos` (1-based) sets where to start and gets the end. */
  match(subject: string, regex: string, options?: string, ctx?: { pos?: number }): Captures | null {
    const m = firstMatch(subject, regex, options, ctx);
    return m ? captures(m[0], m[1].groups) : null;
  },
  /** [from, to] of the first match (1-based, inclusive), or null. */
  find(subject: string, regex: string, options?: string, ctx?: { pos?: number }, nth = 0): [number, number] | null {
    const m = firstMatch(subject, regex, options, ctx);
    if (!m) return null;
    // OpenResty's find: past the pattern's groups is an error, once there is a match.
    const n = nth > 0 ? nth : 0;
    if (n > m[1].ncaptures) throw new TrestyError('TRESTY_ERR_API_ARGS', 'nth out of bound');
    const span = m[0].indices?.[m[1].groups[n] ?? -1];
    return span ? [span[0] + 1, span[1]] : null;
  },
  /** An iterator over every match's captures. */
  *gmatch(subject: string, regex: string, options?: string): Generator<Captures> {
    const { re: compiled, groups } = compile(regex, options);
    const re = new RegExp(compiled);
    for (let m = re.exec(subject); m !== null; m = re.exec(subject)) {
      if (m[0] === '') re.lastIndex++;
      yield captures(m, groups);
    }
  },
  /** lua-resty-core's ngx.re.split: the fields between the matches (and group 1 of each). */
  split(subject: string, regex: string, options?: string, ctx?: { pos?: number }, max?: number, res?: string[]): string[] {
    return split(compile, subject, regex, options, ctx, max, res);
  },
  /** [result, count]: the first match replaced. */
  sub(subject: string, regex: string, replace: Replacement, options?: string): [string, number] {
    return substitute(subject, regex, replace, options, false);
  },
  /** [result, count]: every match replaced. */
  gsub(subject: string, regex: string, replace: Replacement, options?: string): [string, number] {
    return substitute(subject, regex, replace, options, true);
  },
};

function substitute(subject: string, regex: string, replace: Replacement, options: string | undefined, all: boolean): [string, number] {
  const { re: compiled, groups } = compile(regex, options);
  const re = new RegExp(compiled);
  if (typeof replace === 'string') checkTemplate(replace, re);
  let out = '';
  let last = 0;
  let n = 0;
  for (let m = re.exec(subject); m !== null; m = re.exec(subject)) {
    const c = captures(m, groups);
    out += subject.slice(last, m.index) + (typeof replace === 'function' ? String(replace(c)) : expand(replace, c));
    last = m.index + m[0].length;
    n++;
    if (m[0] === '') re.lastIndex++;
    if (!all) break;
  }
  return [out + subject.slice(last), n];
}

export type NgxRe = typeof RE;
