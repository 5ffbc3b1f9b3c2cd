// Where each directive takes `$name`s: the arguments nginx compiles as scripts or complex values
// (a `$` naming nothing is refused at once; unknown names once the whole conf is read), and the
// names a directive declares (`set`, `map`, named captures of any regex). Recorded per directive
// as the conf walk meets it (resolve.ts).

import type { Directive } from './ast.js';
import { confError } from './table.js';
import { templateParts } from './template-parts.js';
import type { VarRegistry } from './var-registry.js';

type Pick = (d: Directive) => readonly string[];

const all: Pick = (d) => d.args;
const from = (i: number): Pick => (d) => d.args.slice(i);
const at = (...idx: number[]): Pick => (d) => idx.filter((i) => i < d.args.length).map((i) => d.args[i]);

/** `proxy_redirect FROM TO`, `proxy_cookie_*`: FROM is a regex after `~`, else a template. */
const fromTo: Pick = (d) => (d.args.length < 2 ? [] : d.args[0].startsWith('~') ? [d.args[1]] : [d.args[0], d.args[1]]);

/** headers-more's `[-s STATUS] [-t TYPE] 'Name: value'`: the values, not the options. */
const moreHeaders: Pick = (d) => d.args.filter((a, i) => !a.startsWith('-') && !['-s', '-t'].includes(d.args[i - 1] ?? ''));

/** `if (...)`: every operand but a regex (its `$` is an anchor). */
const ifCondition: Pick = (d) => {
  // the tokens as parseCondition sees them: a quoted regex may hold spaces
  const parts = d.args.map((a, i) => (i === 0 ? a.replace(/^\(/, '') : a)).map((a, i, all) => (i === all.length - 1 ? a.replace(/\)$/, '') : a));
  const k = parts[0] === '' ? 1 : 0;
  return /^!?~\*?$/.test(parts[k + 1] ?? '') ? [parts[k]] : parts;
};

const TEMPLATE_ARGS: ReadonlyMap<string, Pick> = new Map<string, Pick>([
  ['return', all], ['rewrite', at(1)], ['set', at(1)], ['if', ifCondition], ['try_files', all], ['error_page', all],
  ['root', all], ['alias', all], ['index', all], ['expires', all], ['limit_rate', all], ['charset', all],
  ['auth_basic', all], ['auth_basic_user_file', all], ['ssl_certificate', all], ['ssl_certificate_key', all],
  ['add_header', from(1)], ['add_trailer', from(1)], ['more_set_headers', moreHeaders], ['more_set_input_headers', moreHeaders],
  ['sub_filter', all], ['hash', at(0)],
  ['access_log', (d) => d.args.filter((a, i) => i === 0 || a.startsWith('if='))],
  ['log_format', (d) => d.args.slice(1).filter((a) => !a.startsWith('escape='))],
  ['limit_req_zone', at(0)], ['limit_conn_zone', at(0)],
  ['proxy_pass', all], ['proxy_set_header', from(1)], ['proxy_cache_key', all], ['proxy_no_cache', all],
  ['proxy_cache_bypass', all], ['proxy_cache', all], ['proxy_method', all], ['proxy_bind', at(0)], ['proxy_ssl_name', all],
  ['proxy_ssl_certificate', all], ['proxy_ssl_certificate_key', all],
  ['proxy_store', (d) => (d.args[0] === 'on' || d.args[0] === 'off' ? [] : d.args)],
  ['proxy_redirect', fromTo], ['proxy_cookie_domain', fromTo], ['proxy_cookie_path', fromTo],
  // proxy_cookie_flags: a cookie name (not a `~` regex) and the flags are complex values
  ['proxy_cookie_flags', (d) => d.args.filter((a, i) => !(i === 0 && a.startsWith('~')))], ['proxy_set_body', all],
  ['auth_request_set', from(1)], ['split_clients', at(0)], ['secure_link', all], ['secure_link_md5', all],
  ['set_by_js_block', from(1)], ['set_by_js_file', from(2)],
  // the source; the values are the block's lines (recordVars)
  ['map', at(0)],
]);

/** Directives whose first argument is a `$name` they declare. */
const DECLARE_FIRST = new Set(['set', 'set_by_js_block', 'set_by_js_file', 'auth_request_set']);

const NAMED_GROUP = /\(\?(?:P?<|')([A-Za-z_][A-Za-z0-9_]*)[>']/g;

/**
 * nginx's script compiler on a text with `$`: each `$` must start a name, `${name}` or a digit.
 * Throws its message at the directive (log_format's own parser says `invalid parameter`).
 */
function checkSyntax(d: Directive, text: string, at: { file: string; line: number }): void {
  for (let i = text.indexOf('$'); i >= 0; i = text.indexOf('$', i + 1)) {
    const bracket = text[i + 1] === '{';
    const from = i + (bracket ? 2 : 1);
    if (!bracket && /[0-9]/.test(text[from] ?? '')) continue;
    let end = from;
    while (end < text.length && /[A-Za-z0-9_]/.test(text[end]!)) end++;
    const bad = (m: string): never => {
      throw confError('TRESTY_ERR_CONF_VALUE', d.name === 'log_format' ? `invalid parameter "${text.slice(i)}"` : m, at);
    };
    if (end === from) bad('invalid variable name');
    if (bracket && text[end] !== '}') bad(`the closing bracket in "${text.slice(from, end)}" variable is missing`);
  }
}

function use(reg: VarRegistry, d: Directive, text: string, at: { file: string; line: number }): void {
  if (!text.includes('$')) return;
  // headers-more's parser is its own (not checked here)
  if (!d.name.startsWith('more_')) checkSyntax(d, text, at);
  for (const p of templateParts(text)) {
    if (typeof p !== 'string') reg.uses.push({ name: p.name, file: at.file, line: at.line });
  }
}

/** Records what `d` (one directive, not its child block) declares and uses; throws for a `$` that names nothing. */
export function recordVars(reg: VarRegistry, d: Directive): void {
  // A named group anywhere (location, rewrite, if, server_name, map keys ...) is a variable in nginx.
  for (const text of [...d.args, ...(d.name === 'map' ? (d.block ?? []).map((l) => l.name) : [])]) {
    if (text.includes('(?')) for (const g of text.matchAll(NAMED_GROUP)) reg.declared.add(g[1].toLowerCase());
  }
  const decl = DECLARE_FIRST.has(d.name) ? d.args[0] : d.name === 'map' || d.name === 'split_clients' ? d.args[1] : undefined;
  if (decl !== undefined && decl.startsWith('$')) reg.declared.add(decl.slice(1).toLowerCase());
  const pick = TEMPLATE_ARGS.get(d.name);
  if (pick === undefined) return;
  for (const a of pick(d)) use(reg, d, a, d);
  if (d.name === 'map') for (const l of d.block ?? []) if (l.args.length === 1) use(reg, d, l.args[0], l);
}
