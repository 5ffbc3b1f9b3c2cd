// `location [=|~|~*|^~|@] pattern` → modifier, pattern and compiled regex, with nginx's checks.

import { confRegex } from './conf-regex.js';
import type { Directive } from './ast.js';
import type { LocationBuilder } from './builders.js';
import { confError } from './table.js';

type Modifier = LocationBuilder['modifier'];

function split(d: Directive): { modifier: Modifier; pattern: string } {
  if (d.args.length === 2) {
    const m = d.args[0];
    if (m !== '=' && m !== '~' && m !== '~*' && m !== '^~') {
      throw confError('TRESTY_ERR_CONF_VALUE', `invalid location modifier "${m}"`, d);
    }
    return { modifier: m, pattern: d.args[1] };
  }
  const a = d.args[0];
  // nginx also accepts the modifier glued to the pattern: `location =/x`, `location ~*\.png$`.
  for (const m of ['~*', '^~', '~', '=', '@'] as const) {
    if (a.startsWith(m) && a.length > m.length) return { modifier: m, pattern: a.slice(m.length) };
  }
  return { modifier: '', pattern: a };
}

export function compileLocation(d: Directive, parent: LocationBuilder | undefined): {
  modifier: Modifier; pattern: string; regex?: RegExp;
} {
  const { modifier, pattern } = split(d);
  if (parent) {
    if (parent.modifier === '=') {
      throw confError('TRESTY_ERR_CONF_NOT_ALLOWED', `location "${pattern}" cannot be inside the exact location "${parent.pattern}"`, d);
    }
    const parentIsRegex = parent.modifier === '~' || parent.modifier === '~*';
    const childIsRegex = modifier === '~' || modifier === '~*';
    if (!parentIsRegex && !childIsRegex && modifier !== '@' && !pattern.startsWith(parent.pattern)) {
      throw confError('TRESTY_ERR_CONF_NOT_ALLOWED', `location "${pattern}" is outside location "${parent.pattern}"`, d);
    }
  }
  if (modifier !== '~' && modifier !== '~*') return { modifier, pattern };
  try {
    const regex = confRegex(pattern, modifier === '~*');
    return { modifier, pattern, regex };
  } catch (e) {
    throw confError('TRESTY_ERR_CONF_VALUE', `invalid regex "${pattern}": ${(e as Error).message}`, d);
  }
}
