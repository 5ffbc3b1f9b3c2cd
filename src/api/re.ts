// ngx.re: OpenResty's regex API over JavaScript's RegExp (PCRE and JS syntax mostly agree).
// Options: i m s u x (x: whitespace and #-comments dropped), j/o/d/J/U accepted and ignored.
// Captures are arrays with [0] the whole match, [1..n] the groups, named groups as keys.

import { TrestyError } from '../errors.js';

export type Captures = Array<string | undefined> & Record<string, string | undefined>;
export type Replacement = string | ((m: Captures) => string);

const cache = new Map<string, RegExp>();

function compile(regex: string, options = '', global = false): RegExp {
  const key = `${global ? 'g' : ''}/${options}/${regex}`;
  let re = cache.get(key);
  if (re) { re.lastIndex = 0; return re; }
  let flags = global ? 'gd' : 'd';
  let src = regex;
  for (const o of options) {
    if (o === 'i' || o === 'm' || o === 's' || o === 'u') { if (!flags.includes(o)) flags += o; }
    else if (o === 'x') src = src.replace(/\\#/g, '\u0000').replace(/#[^\n]*/g, '').replace(/\s+/g, '').replace(/\u0000/g, '\\#');
    else if (!'jodJUa'.includes(o)) throw new TrestyError('TRESTY_ERR_API_ARGS', `ngx.re: unknown flag "${o}"`);
  }
  try {
    re = new RegExp(src, flags);
  } catch (e) {
    throw new TrestyError('TRESTY_ERR_API_ARGS', `ngx.re: failed to compile regex "${regex}": ${(e as Error).message}`);
  }
  if (cache.size > 1000) cache.clear();
  cache.set(key, re);
  return re;
}

function captures(m: RegExpExecArray): Captures {
  const c = [...m] as Captures;
  if (m.groups) for (const [k, v] of Object.entries(m.groups)) c[k] = v;
  return c;
}

/** Expands `$0`, `$1`, `${name}` and `$$` in a replacement template. */
function expand(template: string, c: Captures): string {
  return template.replace(/\$(\$|\d+|\{(\w+)\})/g, (_, t: string, name?: string) => {
    if (t === '$') return '$';
    const k = name ?? t;
    return (/^\d+$/.test(k) ? c[Number(k)] : c[k]) ?? '';
  });
}

/** The first match from `ctx.pos` (1-based; the start without it), which then moves past it. */
function firstMatch(subject: string, regex: string, options: string | undefined, ctx: { pos?: number } | undefined): RegExpExecArray | null {
  const re = compile(regex, options, true);
  re.lastIndex = ctx?.pos ? ctx.pos - 1 : 0;
  const m = re.exec(subject);
  if (m && ctx) ctx.pos = m.index + m[0].length + 1;
  return m;
}

export const RE = {
  /** The first match's captures, or null. `ctx.pos` (1-based) sets where to start and gets the end. */
  match(subject: string, regex: string, options?: string, ctx?: { pos?: number }): Captures | null {
    const m = firstMatch(subject, regex, options, ctx);
    return m ? captures(m) : null;
  },
  /** [from, to] of the first match (1-based, inclusive), or null. */
  find(subject: string, regex: string, options?: string, ctx?: { pos?: number }, nth = 0): [number, number] | null {
    const span = firstMatch(subject, regex, options, ctx)?.indices?.[nth];
    return span ? [span[0] + 1, span[1]] : null;
  },
  /** An iterator over every match's captures. */
  *gmatch(subject: string, regex: string, options?: string): Generator<Captures> {
    const re = new RegExp(compile(regex, options, true));
    for (let m = re.exec(subject); m !== null; m = re.exec(subject)) {
      if (m[0] === '') re.lastIndex++;
      yield captures(m);
    }
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
  const re = new RegExp(compile(regex, options, true));
  let out = '';
  let last = 0;
  let n = 0;
  for (let m = re.exec(subject); m !== null; m = re.exec(subject)) {
    const c = captures(m);
    out += subject.slice(last, m.index) + (typeof replace === 'function' ? String(replace(c)) : expand(replace, c));
    last = m.index + m[0].length;
    n++;
    if (m[0] === '') re.lastIndex++;
    if (!all) break;
  }
  return [out + subject.slice(last), n];
}

export type NgxRe = typeof RE;
