// nginx's split_clients module: `split_clients STRING $VAR { 10% a; 20.5% b; * c; }` (http).
// The block's lines are percent/value pairs, read here as nginx's own block handler reads them
// (its checks and messages); api/split-clients.ts picks the value per request.

import type { Directive } from './ast.js';
import { confError, type DirectiveRow } from './table.js';
import { templateParts } from './template-parts.js';
import type { SplitClientsConf } from './types-access.js';
import { isFixedVar } from './var-names.js';

/** nginx's ngx_atofp(s, 2): a percent in hundredths, or null (no sign, at most two decimals). */
function hundredths(s: string): number | null {
  const m = /^(\d*)(?:\.(\d{0,2}))?$/.exec(s);
  if (m === null || s === '' || s === '.') return null;
  const n = Number(m[1] || '0') * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(n) ? n : null;
}

function build(d: Directive): SplitClientsConf {
  const [src, dst] = d.args;
  if (!dst.startsWith('$') || dst.length < 2) throw confError('TRESTY_ERR_CONF_VALUE', `invalid variable name "${dst}"`, d);
  const variable = dst.slice(1).toLowerCase();
  if (isFixedVar(variable)) throw confError('TRESTY_ERR_CONF_DUPLICATE', `the duplicate "${dst.slice(1)}" variable`, d);
  const raw: { percent: number; value: string }[] = [];
  for (const line of d.block ?? []) {
    const p = line.name;
    let percent = 0;
    if (p !== '*') {
      const n = p.endsWith('%') ? hundredths(p.slice(0, -1)) : null;
      if (n === null || n === 0) throw confError('TRESTY_ERR_CONF_VALUE', `invalid percent value "${p}"`, line);
      percent = n;
    }
    // nginx takes the line's second word; it does not count them (`10% a b;` is `a`).
    raw.push({ percent, value: line.args[0] ?? '' });
  }
  // nginx's sums: each part's share of 0xffffffff, floored, added up in 32 bits.
  let sum = 0;
  let last = 0;
  const parts = raw.map(({ percent, value }) => {
    sum = percent > 0 ? sum + percent : 10000;
    if (sum > 10000) throw confError('TRESTY_ERR_CONF_VALUE', 'percent total is greater than 100%', { file: d.file, line: d.endLine ?? d.line });
    if (percent === 0) return { below: 0, value };
    last = (last + Math.floor((percent * 0xffffffff) / 10000)) >>> 0;
    return { below: last, value };
  });
  return { variable, source: templateParts(src), parts };
}

export const splitClientsDirectives: readonly DirectiveRow[] = [
  {
    name: 'split_clients', contexts: ['http'], args: [2, 2], block: 'block', multiple: true,
    apply(d, s) {
      const c = build(d);
      (s.http!.splitClients ??= new Map()).set(c.variable, c);
    },
  },
];
