// ngx.* helpers that need no request and work in every context (on the prototype, like the
// constants): URI and args encoding, base64, digests, crc32, ngx.config. Their arguments are
// read as lua-resty-core reads them (compat-util-fuzz): a string is its UTF-8 (bytes: a
// Uint8Array), nil or false is "" where lua-resty-core takes `not s` as "", a number its %.14g.

import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { TrestyError } from '../errors.js';
import { textOf } from '../request/bytes.js';
import { luaNumberString } from '../shared/lua-args.js';
import { decodeArgs, encodeArgs, unescapeArg, type Args } from './args.js';
import { escapeBytes, escapeType } from './escape-uri.js';

/** lua-resty-core's `if not s then s = '' else s = tostring(s) end`, as bytes. */
function bytesArg(s: unknown): Buffer | string {
  if (typeof s === 'string') return s; // crypto and Buffer.from read it as UTF-8
  if (s instanceof Uint8Array) return Buffer.from(s.buffer, s.byteOffset, s.byteLength);
  if (s === null || s === undefined || s === false) return '';
  return typeof s === 'number' ? luaNumberString(s) : String(s);
}

const TYPES: Record<string, string> = { undefined: 'nil', object: 'nil', boolean: 'boolean', function: 'function' };

/** luaL_checklstring of a C function (hmac_sha1, quote_sql_str): a string, bytes or a number. */
function checkString(s: unknown, n: number, fn: string): Buffer | string {
  if (typeof s === 'string' || s instanceof Uint8Array || typeof s === 'number') return bytesArg(s);
  throw new TrestyError('TRESTY_ERR_API_ARGS', `bad argument #${n} to '${fn}' (string expected, got ${TYPES[typeof s] ?? typeof s})`);
}

/** ngx_decode_base64: the standard alphabet up to the first `=` (what follows is not read), not
 *  1 mod 4 long; null otherwise. */
const B64 = /^[A-Za-z0-9+/]*/;

export const UTIL = {
  /** Percent-encodes as lua-nginx-module's escape_uri of `type` (2, the default, keeps letters,
   *  digits and `-_.~!*'()`: encodeURIComponent's set); text goes as its UTF-8. */
  escape_uri(s: unknown, type?: unknown): string {
    const t = escapeType(type);
    if (typeof s === 'string' && t === 2) {
      try { return encodeURIComponent(s); } catch { /* a lone surrogate: its UTF-8 replacement below */ }
    }
    const b = bytesArg(s);
    const out = escapeBytes(typeof b === 'string' ? Buffer.from(b) : b, t);
    return t >= 5 ? textOf(Buffer.from(out, 'latin1')) : out;
  },
  /** As lua-nginx-module's: `+` a space, valid `%XX` decoded, a broken `%` kept (see args.ts). */
  unescape_uri(s: unknown): string {
    const b = bytesArg(s);
    return unescapeArg(typeof b === 'string' ? b : b.toString('latin1'));
  },
  encode_args(args: Record<string, unknown>): string { return encodeArgs(args); },
  decode_args(s: string, max = 100): Args { return decodeArgs(String(s), max); },
  encode_base64(s: unknown, noPadding: unknown = false): string {
    if (noPadding !== undefined && noPadding !== null && noPadding !== false && noPadding !== true) {
      throw new TrestyError('TRESTY_ERR_API_ARGS', `bad no_padding: boolean expected, got ${TYPES[typeof noPadding] ?? typeof noPadding}`);
    }
    const b = Buffer.from(bytesArg(s)).toString('base64');
    return noPadding === true ? b.replace(/=+$/, '') : b;
  },
  /** Text when the bytes are UTF-8, else one char a byte (as unescape_uri); null when not base64. */
  decode_base64(s: unknown): string | null {
    if (typeof s !== 'string' && !(s instanceof Uint8Array)) throw new TrestyError('TRESTY_ERR_API_ARGS', 'string argument only');
    const str = typeof s === 'string' ? s : Buffer.from(s).toString('latin1');
    const eq = str.indexOf('=');
    const body = eq < 0 ? str : str.slice(0, eq);
    if (B64.exec(body)![0].length !== body.length || body.length % 4 === 1) return null;
    return textOf(Buffer.from(body, 'base64'));
  },
  md5(s: unknown): string { return crypto.createHash('md5').update(bytesArg(s)).digest('hex'); },
  md5_bin(s: unknown): Buffer { return crypto.createHash('md5').update(bytesArg(s)).digest(); },
  sha1_bin(s: unknown): Buffer { return crypto.createHash('sha1').update(bytesArg(s)).digest(); },
  /** CRC-32 (crc32_short and crc32_long differ only in how nginx computes it). */
  crc32_short(s: unknown): number { return zlib.crc32(bytesArg(s)); },
  crc32_long(s: unknown): number { return zlib.crc32(bytesArg(s)); },
  hmac_sha1(key: unknown, s: unknown): Buffer {
    const k = checkString(key, 1, 'hmac_sha1');
    return crypto.createHmac('sha1', k).update(checkString(s, 2, 'hmac_sha1')).digest();
  },
  quote_sql_str(s: unknown): string {
    const b = checkString(s, 1, 'quote_sql_str');
    const str = typeof b === 'string' ? b : textOf(b);
    return `'${str.replace(/[\0\b\n\r\t\x1a\\'"]/g, (c) => ({ '\0': '\\0', '\b': '\\b', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1a': '\\Z' } as Record<string, string>)[c] ?? `\\${c}`)}'`;
  },
};

export type NgxUtil = typeof UTIL;
