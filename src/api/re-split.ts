// ngx.re.split: lua-resty-core's ngx/re.lua split, step for step, over the compiled regexes of
// re.ts, so its quirks stay OpenResty's (observed on nginx + lua): only group 1 goes into the
// result (the whole subject when a later group matched and group 1 did not), an empty match moves
// one char on, trailing empty fields go only without max, and ctx.pos ends as the 0-based end of
// the last match.

import { TrestyError } from '../errors.js';
import type { Compiled } from './re.js';

/** Lua's string.sub(s, i, j): 1-based, inclusive, negatives from the end. */
function luaSub(s: string, i: number, j = -1): string {
  const len = s.length;
  let a = i < 0 ? len + i + 1 : i;
  let b = j < 0 ? len + j + 1 : j;
  if (a < 1) a = 1;
  if (b > len) b = len;
  return a > b ? '' : s.slice(a - 1, b);
}

interface Hit { from: number; to: number; capture: string | undefined }

/** re.lua's re_split_helper: the next match from ctx.pos (0-based), 1-based from / to. */
function next(subject: string, c: Compiled, ctx: { pos: number }): Hit | null {
  const re = c.re;
  const pos = Math.max(ctx.pos, 0);
  // PCRE's PCRE_ERROR_BADOFFSET, as firstMatch in re.ts.
  if (pos > subject.length) throw new TrestyError('TRESTY_ERR_API_ARGS', 'pcre_exec() failed: -24');
  re.lastIndex = pos;
  const m = re.exec(subject);
  if (!m) return null;
  const from = m.index;
  const to = from + m[0].length;
  ctx.pos = from === to ? to + 1 : to;
  // PCRE's rc is one more than the highest group that matched; re.lua takes group 1's offsets
  // when rc > 1, which are -1 (the whole subject through string.sub) when group 1 did not match.
  let capture: string | undefined;
  if (c.groups.slice(1).some((g) => m[g] !== undefined)) capture = m[c.groups[1]!] ?? subject;
  return { from: from + 1, to: to + 1, capture };
}

export function split(compile: (regex: string, options?: string) => Compiled, subjectIn: unknown, regex: string, options?: string,
  ctxIn?: { pos?: number }, maxIn?: number, resIn?: string[]): string[] {
  const subject = String(subjectIn);
  const ctx = (ctxIn ?? {}) as { pos: number };
  if (ctx.pos === undefined || ctx.pos === null) ctx.pos = 1;
  const max = maxIn ?? 0;
  if (resIn !== undefined && resIn !== null && !Array.isArray(resIn)) throw new TrestyError('TRESTY_ERR_API_ARGS', 'res is not a table');
  const res = resIn ?? [];
  const len = subject.length;
  if (ctx.pos > len) { res.length = 0; return res; }
  const c = compile(regex, options);
  let subIdx = ctx.pos;
  let n = 0;
  let lastEmpty: number | undefined;
  ctx.pos = subIdx - 1;
  for (let count = 1; max <= 0 || count < max;) {
    const hit = next(subject, c, ctx);
    if (!hit) break;
    if (lastEmpty !== undefined) subIdx = lastEmpty;
    if (hit.from === hit.to) lastEmpty = hit.from;
    if (hit.from > subIdx || lastEmpty === undefined) {
      count++;
      res[n++] = luaSub(subject, subIdx, hit.from - 1);
      if (hit.capture !== undefined) res[n++] = hit.capture;
      subIdx = hit.to;
      if (subIdx > len) break;
    }
  }
  if (max <= 0 && subIdx > len) {
    while (n > 0 && res[n - 1] === '') n--;
  } else {
    res[n++] = luaSub(subject, subIdx);
  }
  res.length = n;
  return res;
}
