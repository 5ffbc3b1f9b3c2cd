// Directives real nginx confs carry that the first waves left out. limit_rate / limit_rate_after
// and recursive_error_pages are applied (request/limit-rate.ts, phases/run.ts); the rest are
// accepted with nginx 1.22's syntax checks and change nothing, for the reason docs/directives.md
// gives for each (tresty keeps no log file cache, no temp files for proxied answers, ...).

import { confRegex } from './conf-regex.js';
import type { Directive } from './ast.js';
import type { BlockState } from './builders.js';
import { templateParts } from './template-parts.js';
import { confError, type DirectiveRow, flagError } from './table.js';
import type { OutputSettings } from './types-output.js';
import { parseFlag, parseSize, parseTime } from './values.js';

const HSL = ['http', 'server', 'location'] as const;
const HSLI = ['http', 'server', 'location', 'lif'] as const;

function invalid(d: Directive): never {
  throw confError('TRESTY_ERR_CONF_VALUE', `"${d.name}" directive invalid value`, d);
}

function output(s: BlockState): OutputSettings {
  return (s.settings!.output ??= {});
}

const flagRow = (name: string, contexts: DirectiveRow['contexts']): DirectiveRow =>
  ({ name, contexts, args: [1, 1], apply(d) { if (parseFlag(d.args[0]) === null) throw flagError(d); } });

const sizeRow = (name: string, contexts: DirectiveRow['contexts']): DirectiveRow =>
  ({ name, contexts, args: [1, 1], apply(d) { if (parseSize(d.args[0]) === null) invalid(d); } });

/** `open_log_file_cache off | max=N [inactive=TIME] [min_uses=N] [valid=TIME]`. */
function openLogFileCache(d: Directive): void {
  if (d.args.length === 1 && d.args[0] === 'off') return;
  let max = false;
  for (const p of d.args) {
    const m = /^(max|inactive|min_uses|valid)=(.*)$/.exec(p);
    const ok = m !== null && (m[1] === 'max' || m[1] === 'min_uses' ? /^\d+$/.test(m[2]) : parseTime(m[2]) !== null);
    if (!ok) throw confError('TRESTY_ERR_CONF_VALUE', `invalid "${d.name}" parameter "${p}"`, d);
    if (m[1] === 'max' && Number(m[2]) > 0) max = true;
  }
  if (!max) throw confError('TRESTY_ERR_CONF_VALUE', `"${d.name}" must have "max" parameter`, d);
}

export const conf2Directives: readonly DirectiveRow[] = [
  {
    // nginx's complex value: a size, or variables giving one per request (`limit_rate $rate;`).
    name: 'limit_rate', contexts: HSLI, args: [1, 1],
    apply(d, s) {
      if (!d.args[0].includes('$') && parseSize(d.args[0]) === null) invalid(d);
      output(s).limitRate = templateParts(d.args[0]);
    },
  },
  {
    name: 'limit_rate_after', contexts: HSLI, args: [1, 1],
    apply(d, s) {
      const n = parseSize(d.args[0]);
      if (n === null) invalid(d);
      output(s).limitRateAfter = n;
    },
  },
  {
    // tresty's error_page stops after one redirect unless this is on; the cycle limit (10) still holds.
    name: 'recursive_error_pages', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = parseFlag(d.args[0]);
      if (v === null) throw flagError(d);
      output(s).recursiveErrorPages = v;
    },
  },
  { name: 'open_log_file_cache', contexts: HSL, args: [1, 4], apply: openLogFileCache },
  flagRow('client_body_in_single_buffer', HSL),
  sizeRow('sendfile_max_chunk', HSL),
  sizeRow('ssl_buffer_size', ['http', 'server']),
  flagRow('proxy_socket_keepalive', HSL),
  sizeRow('proxy_temp_file_write_size', HSL),
  {
    // `proxy_temp_path PATH [L1 [L2 [L3]]]`: tresty's proxy keeps no temp files for answers.
    name: 'proxy_temp_path', contexts: HSL, args: [1, 4],
    apply(d) { for (const l of d.args.slice(1)) if (!/^[12]$/.test(l)) invalid(d); },
  },
  {
    name: 'ssl_dhparam', contexts: ['http', 'server'], args: [1, 1],
    apply(d, s, ctx) { const x = (s.settings!.ssl ??= {}); x.dhparam = ctx.abs(d.args[0]); x.dhparamRef = { file: d.file, line: d.line }; },
  },
  {
    name: 'ssl_stapling', contexts: ['http', 'server'], args: [1, 1],
    apply(d, s) {
      const v = parseFlag(d.args[0]);
      if (v === null) throw flagError(d);
      (s.settings!.ssl ??= {}).stapling = v;
    },
  },
];

/** `proxy_cookie_domain|path off | FROM TO`: several apply in order; `off` drops inherited ones. */
function cookieRow(name: string, key: 'cookieDomains' | 'cookiePaths'): DirectiveRow {
  return {
    name, contexts: HSL, args: [1, 2], multiple: true,
    apply(d, s) {
      const p = (s.settings!.proxy ??= {});
      if (d.args.length === 1) {
        if (d.args[0] !== 'off') throw confError('TRESTY_ERR_CONF_ARGS', `invalid number of arguments in "${d.name}" directive`, d);
        p[key] = [];
        return;
      }
      let [from] = d.args;
      const to = d.args[1];
      let regex: RegExp | null = null;
      if (from.startsWith('~')) {
        // nginx 1.22: a domain regex (`~`) is always caseless and knows no `~*`; a path's `~*` is.
        const ci = key === 'cookieDomains' || from.startsWith('~*');
        const src = from.slice(key === 'cookiePaths' && ci ? 2 : 1);
        try { regex = confRegex(src, ci); } catch { throw confError('TRESTY_ERR_CONF_VALUE', `invalid regex "${src}" in "${d.name}"`, d); }
      } else if (key === 'cookieDomains' && from.startsWith('.')) {
        // nginx compares domains without their leading dot, on both sides.
        from = from.slice(1);
      }
      (p[key] ??= []).push({ from, regex, to });
    },
  };
}

/** Whether a block's proxy_cookie_flags so far were `off` or rules (for nginx's duplicate check). */
const flagsKind = new WeakMap<object, 'off' | 'rules'>();

export const cookieDirectives: readonly DirectiveRow[] = [
  cookieRow('proxy_cookie_domain', 'cookieDomains'),
  cookieRow('proxy_cookie_path', 'cookiePaths'),
  {
    // `off` alone drops inherited rules; `off FLAG` names a cookie "off", as nginx reads it.
    // Flags are checked when applied (they may hold variables); an unknown one does nothing.
    name: 'proxy_cookie_flags', contexts: HSL, args: [1, 4], multiple: true,
    apply(d, s) {
      const p = (s.settings!.proxy ??= {});
      const [cookie, ...flags] = d.args;
      const off = d.args.length === 1;
      if (off && cookie !== 'off') throw confError('TRESTY_ERR_CONF_VALUE', `invalid parameter "${cookie}"`, d);
      // nginx: `off` stands alone in its block, never next to a rule or another `off`
      const before = flagsKind.get(p);
      if (before === 'off' || (before === 'rules' && off)) throw confError('TRESTY_ERR_CONF_DUPLICATE', `"${d.name}" directive is duplicate`, d);
      flagsKind.set(p, off ? 'off' : 'rules');
      if (off) { p.cookieFlags = []; return; }
      let regex: RegExp | null = null;
      if (cookie.startsWith('~')) {
        const src = cookie.slice(1);
        try { regex = confRegex(src, false); } catch (e) { throw confError('TRESTY_ERR_CONF_VALUE', `pcre2_compile() failed: ${(e as Error).message} in "${src}"`, d); }
      }
      (p.cookieFlags ??= []).push({ name: cookie, regex, flags });
    },
  },
];
