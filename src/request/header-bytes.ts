// Header names and values as they go on the wire, the way OpenResty sends what handlers set:
// bytes a header cannot carry are escaped as %XX (CR/LF and other control bytes in values; in
// names, anything that is not a token character), and a value with characters above U+00FF is
// sent as its UTF-8 bytes. A bad header therefore never fails or splits a response.

// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
// eslint-disable-next-line no-control-regex
const CTL = /[\x00-\x08\x0a-\x1f\x7f]/g;
const WIDE = /[^\x00-\xff]/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function hex(b: number): string {
  return `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** `v` as it can be sent: control bytes escaped, wide characters as UTF-8 bytes. */
export function safeValue(v: string): string {
  if (!BAD_VALUE.test(v)) return v;
  let s = v.replace(CTL, (c) => hex(c.charCodeAt(0)));
  if (WIDE.test(s)) s = Buffer.from(s, 'utf8').toString('latin1');
  return s;
}

/** `n` as it can be sent: bytes that are not token characters escaped. */
export function safeName(n: string): string {
  if (TOKEN.test(n)) return n;
  let out = '';
  for (const b of Buffer.from(n, 'utf8')) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && TOKEN.test(c) ? c : hex(b);
  }
  return out === '' ? '%20' : out;
}
