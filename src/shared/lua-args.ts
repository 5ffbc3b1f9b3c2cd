// How lua-resty-core and lua-nginx-module read ngx.shared.DICT's arguments, for SharedDict to
// read them the same way: keys as Lua's tostring (numbers as %.14g), numbers as LuaJIT's
// tonumber, exptimes and flags as the C types the FFI converts them to, and which errors come
// first. Each was a difference compat-shdict-fuzz found against nginx 1.22 + lua.

import { TrestyError } from '../errors.js';

/** Lua's tostring for keys; null for nil. A number is LuaJIT's `%.14g` (`2^53` is the key
 *  "9.007199254741e+15", `1e-5` is "1e-05"), not JS's shortest form. */
export function keyOf(key: unknown): string | null {
  if (typeof key === 'string') return key;
  if (key === null || key === undefined) return null;
  if (typeof key === 'number') return luaNumberString(key);
  return String(key);
}

/** C's `%.14g`, as LuaJIT's tostring writes a number (`inf`, `-inf`, `nan`, `-0`). */
export function luaNumberString(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mant, exp] = n.toExponential(13).split('e') as [string, string];
  const x = Number(exp);
  const trim = (s: string): string => s.includes('.') ? s.replace(/\.?0+$/, '') : s;
  if (x < -4 || x >= 14) return `${trim(mant)}e${x < 0 ? '-' : '+'}${String(Math.abs(x)).padStart(2, '0')}`;
  return trim(n.toFixed(13 - x));
}

export function exptimeMs(exptime: unknown, what = 'exptime'): number {
  // lua-resty-core: `if not exptime then 0 elseif exptime < 0 then error`: false is 0, and a
  // string (even "5") raises there.
  if (exptime === undefined || exptime === null || exptime === false) return 0;
  if (typeof exptime !== 'number') throw new TrestyError('TRESTY_ERR_API_ARGS', `attempt to compare ${typeof exptime} with number`);
  if (exptime < 0) throw new TrestyError('TRESTY_ERR_API_ARGS', `bad "${what}" argument`);
  return msOf(exptime);
}

/**
 * Seconds as the int64 milliseconds lua-resty-core hands to C: NaN, Infinity and anything past
 * int64 become INT64_MIN (x86's conversion), which C reads as "never expires": 0 here. NaN is no
 * error (`NaN < 0` is false in Lua too).
 */
export function msOf(seconds: number): number {
  const ms = Math.trunc(seconds * 1000);
  return ms >= -9223372036854775808 && ms < 9223372036854775808 ? ms : 0;
}

/**
 * The flags as lua-resty-core passes them, to a C `int` through the FFI: truncated, and any
 * number outside the int32 range (or NaN) is INT_MIN (x86's conversion); a boolean is 0 or 1;
 * anything else raises. `get` answers them signed, as nginx does (`-1`, not 4294967295).
 */
export function flagsOf(flags: unknown): number {
  if (flags === undefined || flags === null) return 0;
  if (typeof flags === 'boolean') return flags ? 1 : 0;
  if (typeof flags !== 'number') throw new TrestyError('TRESTY_ERR_API_ARGS', `bad "flags" argument: cannot convert '${typeof flags}' to 'int'`);
  const t = Math.trunc(flags);
  return t >= -2147483648 && t <= 2147483647 ? t : -2147483648;
}

/**
 * The list calls are lua-nginx-module's C functions: their key is luaL_checklstring's, so a key
 * that is neither a string nor a number (nor nil) raises rather than becoming its tostring.
 */
export function listKeyOf(key: unknown, what: string): string | null {
  if (typeof key === 'boolean' || (typeof key === 'object' && key !== null) || typeof key === 'function') {
    throw new TrestyError('TRESTY_ERR_API_ARGS', `bad argument #1 to '${what}' (string expected, got ${typeof key === 'object' ? 'table' : typeof key})`);
  }
  return keyOf(key);
}

/** The key errors lua-resty-core returns before it looks at the other arguments; null when none. */
export function keyError(k: string): string | null {
  if (k === '') return 'empty key';
  // A UTF-16 unit is at most 3 UTF-8 bytes: only a long key needs counting.
  if (k.length > 21845 && Buffer.byteLength(k) > 65535) return 'key too long';
  return null;
}

/**
 * LuaJIT's tonumber of a string (lj_strscan): spaces around, decimal, `0x` hex (with a `p`
 * exponent), `0b` binary, `inf`, `infinity` and `nan` in any case; null when it is no number
 * (`''`, `' '`, `'1e'`), as for anything but a number or a string.
 */
export function luaToNumber(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return null;
  const s = v.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '').toLowerCase();
  const m = /^([-+]?)(.*)$/.exec(s)!;
  const sign = m[1] === '-' ? -1 : 1;
  const body = m[2]!;
  if (body === 'inf' || body === 'infinity') return sign * Infinity;
  if (body === 'nan') return NaN;
  if (/^(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(body)) return sign * Number(body);
  if (/^0b[01]+$/.test(body)) return sign * parseInt(body.slice(2), 2);
  const hex = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([-+]?\d+))?$/.exec(body);
  if (hex && (hex[1] || hex[2])) {
    const frac = hex[2] ?? '';
    const n = parseInt(`${hex[1] || '0'}${frac}`, 16) / 16 ** frac.length;
    return sign * n * 2 ** Number(hex[3] ?? 0);
  }
  return null;
}

/** A number argument as lua-resty-core converts it (tonumber): anything else raises, nil too. */
export function numberArg(v: unknown, what: string): number {
  const n = luaToNumber(v);
  if (n === null) {
    throw new TrestyError('TRESTY_ERR_API_ARGS', `bad ${what} arg: number expected, got ${v === null || v === undefined ? 'nil' : typeof v}`);
  }
  return n;
}
