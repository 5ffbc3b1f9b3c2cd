// OpenResty confs carry `lua_*` and `*_by_lua*` directives. tresty runs JavaScript/TypeScript
// handlers instead, most under the same name with `js` for `lua`; an unknown Lua directive says
// which one to use, so moving a conf over is a rename rather than a hunt through the docs.

import type { Directive } from './ast.js';
import { ConfError } from '../errors.js';

/** The tresty directive an OpenResty one maps to, or null when there is none. */
export function jsEquivalent(name: string, known: (n: string) => boolean): string | null {
  if (!/(^|_)lua(_|$)/.test(name)) return null;
  const js = name.replace(/(^|_)lua(?=_|$)/g, '$1js');
  // content_by_lua "code"; (deprecated in OpenResty) is content_by_lua_block's older form.
  for (const c of [js, `${js}_block`]) if (known(c)) return c;
  return null;
}

export function unknownDirective(d: Directive, known: (n: string) => boolean): ConfError {
  const msg = `unknown directive "${d.name}"`;
  const isLua = /(^|_)lua(_|$)/.test(d.name);
  if (!isLua) return new ConfError('TRESTY_ERR_CONF_UNKNOWN_DIRECTIVE', msg, d.file, d.line);
  const js = jsEquivalent(d.name, known);
  const hint = js
    ? `tresty runs JavaScript/TypeScript, not Lua: use "${js}" (the same phase, with the ngx.* API in JS)`
    : 'tresty runs JavaScript/TypeScript, not Lua, and has no equivalent of it (see docs/directives.md)';
  return new ConfError('TRESTY_ERR_CONF_UNKNOWN_DIRECTIVE', `${msg}; ${hint}`, d.file, d.line);
}
