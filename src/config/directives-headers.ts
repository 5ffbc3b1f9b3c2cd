// Response and request header directives: nginx's add_header, add_trailer and expires, and headers-more's
// more_set_headers / more_clear_headers / more_set_input_headers / more_clear_input_headers
// (OpenResty bundles headers-more). Messages are the ones nginx 1.22 and headers-more 0.34 print.

import type { Directive } from './ast.js';
import type { BlockState } from './builders.js';
import type { HeaderSettings } from './headers-merge.js';
import { confError, type DirectiveRow, flagError } from './table.js';
import type { ExpiresSpec, MoreHeader } from './types-headers.js';
import { parseFlag, parseTime } from './values.js';

const HSLI = ['http', 'server', 'location', 'lif'] as const;
const HSL = ['http', 'server', 'location'] as const;

function hs(s: BlockState): HeaderSettings {
  return (s.settings!.headers ??= {});
}

/** nginx's time in seconds (ngx_parse_time with is_sec): no `ms`. */
function seconds(v: string): number | null {
  if (v.includes('ms')) return null;
  const ms = parseTime(v);
  return ms === null ? null : ms / 1000;
}

function parseExpires(d: Directive): ExpiresSpec | 'off' {
  const bad = (why = 'invalid value'): Error => confError('TRESTY_ERR_CONF_VALUE', `"expires" directive ${why}`, d);
  const modified = d.args.length === 2;
  if (modified && d.args[0] !== 'modified') throw bad();
  let v = d.args[modified ? 1 : 0];
  if (v.includes('$')) {
    throw confError('TRESTY_ERR_CONF_UNSUPPORTED', '"expires" with variables is not supported by tresty', d);
  }
  if (!modified) {
    if (v === 'epoch') return { kind: 'epoch' };
    if (v === 'max') return { kind: 'max' };
    if (v === 'off') return 'off';
  }
  if (v.startsWith('@')) {
    if (modified) throw bad('daily time cannot be used with "modified" parameter');
    const t = seconds(v.slice(1));
    if (t === null) throw bad();
    if (t > 24 * 3600) throw bad('daily time value must be less than 24 hours');
    return { kind: 'daily', seconds: t };
  }
  let sign = 1;
  if (v.startsWith('+')) v = v.slice(1);
  else if (v.startsWith('-')) { sign = -1; v = v.slice(1); }
  const t = seconds(v);
  if (t === null) throw bad();
  return { kind: 'after', seconds: sign * t, modified };
}

/** `Name: value`, `Name:` or `Name` (no value: cleared), as headers-more reads them. */
function moreHeader(text: string, clearOnly: boolean): MoreHeader | null {
  const colon = text.indexOf(':');
  const name = (clearOnly || colon < 0 ? text : text.slice(0, colon)).trim();
  if (name === '') return null;
  const value = clearOnly || colon < 0 ? '' : text.slice(colon + 1).trim();
  const prefix = value === '' && name.endsWith('*');
  return { name: prefix ? name.slice(0, -1) : name, value, prefix };
}

/** Splits headers-more's options (`-s LIST`, `-t LIST`, `-r`) from the headers. */
function moreArgs(d: Directive, allowed: string, clearOnly: boolean) {
  const statuses: number[] = [];
  const types: string[] = [];
  const headers: MoreHeader[] = [];
  let replace = false;
  const err = (m: string): Error => confError('TRESTY_ERR_CONF_VALUE', `${d.name}: ${m}`, d);
  for (let i = 0; i < d.args.length; i++) {
    const a = d.args[i];
    if (a.length === 2 && a[0] === '-' && allowed.includes(a[1])) {
      if (a === '-r') { replace = true; continue; }
      const list = d.args[++i];
      if (list === undefined) throw err(`option ${a} takes an argument.`);
      for (const item of list.split(/\s+/).filter(Boolean)) {
        if (a === '-t') { types.push(item.toLowerCase()); continue; }
        const bad = /\D/.exec(item);
        if (bad) throw err(`invalid digit "${bad[0]}" found in the status code list "${list}"`);
        statuses.push(Number(item));
      }
      continue;
    }
    if (a.startsWith('-') && a.length === 2) throw err(`invalid option name: "${a}"`);
    const h = moreHeader(a, clearOnly);
    if (h !== null) headers.push(h);
  }
  return { statuses, types, headers, replace };
}

export const headerDirectives: readonly DirectiveRow[] = [
  ...(['add_header', 'add_trailer'] as const).map((name): DirectiveRow => ({
    name, contexts: HSLI, args: [2, 3], multiple: true,
    apply(d, s) {
      if (d.args.length === 3 && d.args[2] !== 'always') {
        throw confError('TRESTY_ERR_CONF_VALUE', `invalid parameter "${d.args[2]}"`, d);
      }
      (hs(s)[name === 'add_header' ? 'add' : 'trailer'] ??= []).push({
        name: d.args[0], value: d.args[1], always: d.args.length === 3, ref: { file: d.file, line: d.line },
      });
    },
  })),
  {
    name: 'expires', contexts: HSLI, args: [1, 2],
    apply(d, s) { hs(s).expires = parseExpires(d); },
  },
  {
    name: 'charset', contexts: HSLI, args: [1, 1],
    apply(d, s) { hs(s).charset = d.args[0]; },
  },
  {
    name: 'source_charset', contexts: HSLI, args: [1, 1],
    apply(d, s) { hs(s).sourceCharset = { name: d.args[0], ref: { file: d.file, line: d.line } }; },
  },
  {
    name: 'charset_types', contexts: HSL, args: [1, 64],
    apply(d, s) { hs(s).charsetTypes = d.args.map((t) => t.toLowerCase()); },
  },
  {
    // Accepted with no effect: it picks recoding of a proxied answer's charset, and tresty does
    // not recode (nginx without a charset_map between the two keeps the answer's charset too).
    name: 'override_charset', contexts: HSLI, args: [1, 1],
    apply(d) { if (parseFlag(d.args[0]) === null) throw flagError(d); },
  },
  ...(['more_set_headers', 'more_clear_headers'] as const).map((name): DirectiveRow => ({
    name, contexts: HSLI, args: [1, 64], multiple: true,
    apply(d, s) {
      const { statuses, types, headers } = moreArgs(d, 'st', name === 'more_clear_headers');
      (hs(s).moreOutput ??= []).push({ statuses, types, headers });
    },
  })),
  ...(['more_set_input_headers', 'more_clear_input_headers'] as const).map((name): DirectiveRow => ({
    name, contexts: HSLI, args: [1, 64], multiple: true,
    apply(d, s) {
      const clear = name === 'more_clear_input_headers';
      const { types, headers, replace } = moreArgs(d, clear ? 't' : 'rt', clear);
      (hs(s).moreInput ??= []).push({ replace, types, headers });
    },
  })),
];
