// ngx.* helpers that need no request and work in every context (on the prototype, like the
// constants): URI and args encoding, base64, digests, ngx.config.

import crypto from 'node:crypto';
import { decodeArgs, encodeArgs, unescapeArg, type Args } from './args.js';

export const UTIL = {
  /** Percent-encodes as lua-nginx-module's escape_uri: letters, digits and `-_.~!*'()` are kept
   *  (encodeURIComponent's set); text goes as its UTF-8. */
  escape_uri(s: string): string { return encodeURIComponent(String(s)); },
  /** As lua-nginx-module's: `+` a space, valid `%XX` decoded, a broken `%` kept (see args.ts). */
  unescape_uri(s: string): string { return unescapeArg(String(s)); },
  encode_args(args: Record<string, unknown>): string { return encodeArgs(args); },
  decode_args(s: string, max = 100): Args { return decodeArgs(String(s), max); },
  encode_base64(s: string | Uint8Array, noPadding = false): string {
    const b = Buffer.from(s as string).toString('base64');
    return noPadding ? b.replace(/=+$/, '') : b;
  },
  decode_base64(s: string): string | null {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
    return Buffer.from(s, 'base64').toString('utf8');
  },
  md5(s: string | Uint8Array): string { return crypto.createHash('md5').update(s).digest('hex'); },
  md5_bin(s: string | Uint8Array): Buffer { return crypto.createHash('md5').update(s).digest(); },
  sha1_bin(s: string | Uint8Array): Buffer { return crypto.createHash('sha1').update(s).digest(); },
  hmac_sha1(key: string | Uint8Array, s: string | Uint8Array): Buffer { return crypto.createHmac('sha1', key).update(s).digest(); },
  quote_sql_str(s: string): string {
    return `'${String(s).replace(/[\0\b\n\r\t\x1a\\'"]/g, (c) => ({ '\0': '\\0', '\b': '\\b', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1a': '\\Z' } as Record<string, string>)[c] ?? `\\${c}`)}'`;
  },
};

export type NgxUtil = typeof UTIL;
