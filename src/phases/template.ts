// Conf strings with `$var` / `${var}` (set, return, log_format), compiled once at load into a
// function of the request.

import { getVar } from '../api/vars.js';
import { templateParts as parse } from '../config/template-parts.js';
import type { Req } from '../request/req.js';

export type Template = (r: Req) => string;

/** A template; a variable with no value gives `''`. */
export function compileTemplate(text: string): Template {
  const parts = parse(text);
  if (parts.length === 0) return () => '';
  if (parts.length === 1 && typeof parts[0] === 'string') {
    const s = parts[0];
    return () => s;
  }
  return (r) => {
    let s = '';
    for (const p of parts) s += typeof p === 'string' ? p : (getVar(r, p.name) ?? '');
    return s;
  };
}

/** An access-log template: missing values print `-`, values are escaped as nginx does. */
export function compileLogTemplate(text: string): Template {
  const parts = parse(text).map((p) => (typeof p === 'string' ? p : { name: p.name, bytes: clientBytes(p.name) }));
  return (r) => {
    let s = '';
    for (const p of parts) {
      if (typeof p === 'string') { s += p; continue; }
      const v = getVar(r, p.name);
      s += v === undefined ? '-' : escapeLog(v, p.bytes);
    }
    return s;
  };
}

/** Variables whose value is what the client sent, one char per byte (read as latin1). */
const CLIENT_BYTES = new Set(['request', 'request_uri', 'args', 'query_string', 'request_method', 'remote_user', 'host', 'content_type', 'content_length']);
function clientBytes(name: string): boolean {
  return CLIENT_BYTES.has(name) || /^(?:http|cookie|arg)_/.test(name);
}

// nginx writes `"`, `\` and bytes outside printable ASCII as \xHH in access logs.
// eslint-disable-next-line no-control-regex
const UNSAFE = /["\\\x00-\x1f\x7f-\uffff]/;
/** A value of the client's bytes is escaped byte for byte (`/\xE9` for the byte 0xE9, as nginx);
 *  text (a value JS set, beyond one byte a char) as its UTF-8 bytes. */
function escapeLog(v: string, bytes: boolean): string {
  if (!UNSAFE.test(v)) return v;
  let out = '';
  const raw = bytes && !/[^\x00-\xff]/.test(v) ? Buffer.from(v, 'latin1') : Buffer.from(v, 'utf8');
  for (const b of raw) {
    out += b === 0x22 || b === 0x5c || b < 0x20 || b >= 0x7f
      ? `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`
      : String.fromCharCode(b);
  }
  return out;
}
