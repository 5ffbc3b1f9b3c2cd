// ngx.escape_uri's seven types (lua-nginx-module's ngx_http_lua_escape_uri: 0 URI, 1 ARGS,
// 2 URI_COMPONENT, the default, 3 HTML, 4 REFRESH, 5 MEMCACHED, 6 MAIL_AUTH). The bytes each type
// keeps as they are were read off nginx 1.22 + lua 0.10.23 (every byte, every type); any other
// byte is `%XX` with upper-case hex.

import { TrestyError } from '../errors.js';
import { luaNumberString } from '../shared/lua-args.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** The printable ASCII each type keeps (5 and 6 keep every byte from 0x7f too). */
const KEPT = [
  `${ALNUM}!"$&'()*+,-./:;<=>@[\\]^_\`{|}~`,
  `${ALNUM}!"$&'()*,-./:;<=>@[\\]^_\`{|}~`,
  `${ALNUM}!'()*-._~`,
  `${ALNUM}!$&()*+,-./:;<=>?@[\\]^_\`{|}~`,
  `${ALNUM}!#$%&()*+,-./:;<=>?@[\\]^_\`{|}~`,
  `${ALNUM}!"#$&'()*+,-./:;<=>?@[\\]^_\`{|}~`,
  `${ALNUM}!"#$&'()*+,-./:;<=>?@[\\]^_\`{|}~`,
];

const TABLES: Uint8Array[] = KEPT.map((kept, type) => {
  const t = new Uint8Array(256);
  for (const c of kept) t[c.charCodeAt(0)] = 1;
  if (type >= 5) t.fill(1, 0x7f); // DEL and every byte above
  return t;
});

const HEX = '0123456789ABCDEF';

/** The escape type as lua-resty-core checks it: nil is 2, a non-number or one outside 0..6 raises. */
export function escapeType(t: unknown): number {
  if (t === undefined || t === null) return 2;
  if (typeof t !== 'number') throw new TrestyError('TRESTY_ERR_API_ARGS', '"type" is not a number');
  if (!(t >= 0 && t <= 6)) throw new TrestyError('TRESTY_ERR_API_ARGS', `"type" ${luaNumberString(t)} out of range`);
  return Math.trunc(t); // a C int
}

/** `b` escaped as `type` does; the result one char a byte (ASCII, but the bytes 5 and 6 keep). */
export function escapeBytes(b: Uint8Array, type: number): string {
  const keep = TABLES[type]!;
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    out += keep[c] ? String.fromCharCode(c) : `%${HEX[c >> 4]}${HEX[c & 15]}`;
  }
  return out;
}
