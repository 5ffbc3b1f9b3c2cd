// nginx's userid module: a cookie that names the client (api/userid.ts sets and reads it). Each
// directive inherits on its own, as nginx merges them; checks and messages are nginx 1.22's.

import type { Directive } from './ast.js';
import type { BlockState } from './builders.js';
import { confError, confWarning, type DirectiveRow } from './table.js';
import { type OutputSettings, USERID_MAX_EXPIRES, type UseridMode } from './types-output.js';
import { parseTime } from './values.js';

const HSL = ['http', 'server', 'location'] as const;
const MODES: ReadonlySet<string> = new Set(['off', 'log', 'v1', 'on']);
/** userid_flags: nginx writes them in this order, whatever the conf's. */
const FLAGS = ['secure', 'httponly', 'samesite=strict', 'samesite=lax', 'samesite=none'];

function output(s: BlockState): OutputSettings {
  return (s.settings!.output ??= {});
}

function invalid(d: Directive, what = 'invalid value'): never {
  throw confError('TRESTY_ERR_CONF_VALUE', `"${d.name}" directive ${what}`, d);
}

function str(name: string, key: 'useridName' | 'useridDomain' | 'useridPath' | 'useridP3p'): DirectiveRow {
  return { name, contexts: HSL, args: [1, 1], apply(d, s) { output(s)[key] = d.args[0]; } };
}

/** `userid_flags off | secure | httponly | samesite=...`: a bitmask; a repeated one is a warning. */
function flags(d: Directive, s: BlockState): string {
  const seen = new Set<string>();
  for (const a of d.args) {
    if (a !== 'off' && !FLAGS.includes(a)) throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${a}"`, d);
    // the samesite values share a bit in nginx's mask: the second one is "duplicate"
    const bit = a.startsWith('samesite=') ? 'samesite' : a;
    if (seen.has(bit)) { confWarning(s.main, `duplicate value "${a}"`, d); continue; }
    seen.add(bit);
    if (bit === 'samesite') seen.add(a);
  }
  return FLAGS.filter((f) => seen.has(f)).map((f) => `; ${f}`).join('');
}

export const useridDirectives: readonly DirectiveRow[] = [
  {
    name: 'userid', contexts: HSL, args: [1, 1],
    apply(d, s) {
      if (!MODES.has(d.args[0])) throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${d.args[0]}"`, d);
      output(s).useridMode = d.args[0] as UseridMode;
    },
  },
  {
    name: 'userid_service', contexts: HSL, args: [1, 1],
    apply(d, s) {
      if (!/^\d+$/.test(d.args[0])) invalid(d, 'invalid number');
      // nginx keeps the low 32 bits (it stores the number in a uint32_t)
      output(s).useridService = Number(BigInt(d.args[0]) & 0xffffffffn);
    },
  },
  str('userid_name', 'useridName'),
  str('userid_domain', 'useridDomain'),
  str('userid_path', 'useridPath'),
  str('userid_p3p', 'useridP3p'),
  {
    name: 'userid_expires', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v === 'max') { output(s).useridExpires = USERID_MAX_EXPIRES; return; }
      if (v === 'off') { output(s).useridExpires = 0; return; }
      const ms = v.includes('ms') ? null : parseTime(v);
      if (ms === null) invalid(d);
      output(s).useridExpires = Math.floor(ms / 1000);
    },
  },
  {
    name: 'userid_mark', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v === 'off') { output(s).useridMark = ''; return; }
      if (!/^[0-9A-Za-z=]$/.test(v)) invalid(d, 'value must be "off" or a single letter, digit or "="');
      output(s).useridMark = v;
    },
  },
  {
    name: 'userid_flags', contexts: HSL, args: [1, 3],
    apply(d, s) { output(s).useridFlags = flags(d, s); },
  },
];
