// Query strings and form bodies as OpenResty reads and writes them: repeated keys become
// arrays, a key without `=` is `true`, a pair with an empty key is dropped. Decoding works on
// bytes as lua-nginx-module's does: `+` is a space, each valid `%XX` a byte, a `%` not followed by
// two hex digits stays as it is; the bytes are then given as text when they are UTF-8, else one
// char a byte (so `%FF` reads "\xff", as Lua's one-byte string).

import { bytesOf, hexDigit, textOf } from '../request/bytes.js';
import { luaNumberString } from '../shared/lua-args.js';

export type Args = Record<string, string | boolean | Array<string | boolean>>;

/** lua-nginx-module's unescape of one key or value (`s` one char a byte, or text above 255). */
export function unescapeArg(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 || c === 43 || c > 127) { plain = false; break; }
  }
  if (plain) return s; // ASCII without % or +: as it is (the common case, no copy)
  const b = bytesOf(s);
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 43) { b[n++] = 32; continue; }
    if (c === 37 && i + 2 < b.length && hexDigit(b[i + 1]!) >= 0 && hexDigit(b[i + 2]!) >= 0) {
      b[n++] = (hexDigit(b[i + 1]!) << 4) | hexDigit(b[i + 2]!);
      i += 2;
      continue;
    }
    b[n++] = c;
  }
  return textOf(b.subarray(0, n));
}

/**
 * `max` pieces at most (0: all). `countDropped`: the pieces dropped (empty ones, `a&&b`, and those
 * without a key, `=v`) count toward it, as in lua-nginx-module's decode_args and get_post_args
 * (observed on 1.22 + lua; its get_uri_args counts only the pairs it keeps).
 */
export function decodeArgs(s: string, max = 100, countDropped = true): Args {
  const out: Args = {};
  if (!s) return out;
  let n = 0;
  for (const part of s.split('&')) {
    const eq = part.indexOf('=');
    const dropped = part === '' || eq === 0; // no key: dropped, as lua-nginx-module drops it
    if (dropped && !countDropped) continue;
    if (max > 0 && ++n > max) break;
    if (dropped) continue;
    const key = unescapeArg(eq < 0 ? part : part.slice(0, eq));
    const val: string | boolean = eq < 0 ? true : unescapeArg(part.slice(eq + 1));
    const prev = out[key];
    if (prev === undefined) out[key] = val;
    else if (Array.isArray(prev)) prev.push(val);
    else out[key] = [prev, val];
  }
  return out;
}

export function encodeArgs(args: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(args)) {
    const key = encodeURIComponent(k);
    for (const x of Array.isArray(v) ? v : [v]) {
      if (x === true) parts.push(key);
      else if (x !== false && x !== undefined && x !== null) parts.push(`${key}=${encodeURIComponent(typeof x === 'number' ? luaNumberString(x) : String(x))}`);
    }
  }
  return parts.join('&');
}
