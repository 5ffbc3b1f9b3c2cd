// Request targets as nginx sees them: `$uri` is the decoded path with `//` merged and `.`/`..`
// resolved; `$args` is the raw query string.

import { bytesOf, hexDigit, textOf } from './bytes.js';

export interface Target { uri: string; args: string }

/** null when the path is not valid (400). */
export function parseTarget(url: string, mergeSlashes = true): Target | null {
  const q = url.indexOf('?');
  let raw = q < 0 ? url : url.slice(0, q);
  let args = q < 0 ? '' : url.slice(q + 1);
  // A fragment (`#f`) is in $request_uri but not in $uri or $args; one before `?` ends the
  // target: `/p#f?x=1` has no args (observed on nginx 1.22).
  const h = url.indexOf('#');
  if (h >= 0) {
    if (q < 0 || h < q) { raw = url.slice(0, h); args = ''; } else args = url.slice(q + 1, h);
  }
  const uri = normalizePath(raw, mergeSlashes);
  return uri === null ? null : { uri, args };
}

/** `mergeSlashes` false (merge_slashes off): `//` stays, as nginx's. */
export function normalizePath(raw: string, mergeSlashes = true): string | null {
  if (!raw.startsWith('/')) {
    // An absolute-form target (`http://host/path`).
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(raw);
    if (!m) return null;
    raw = m[1] ?? '/';
  }
  // Fast path: nothing to decode or resolve.
  if (plain(raw, mergeSlashes)) return raw;
  const p = decodePath(raw);
  if (p === null) return null;
  const out: string[] = [];
  const parts = p.split('/');
  for (let i = 1; i < parts.length; i++) {
    const s = parts[i];
    if (s === '' && i < parts.length - 1 && mergeSlashes) continue;
    if (s === '.') { if (i === parts.length - 1) out.push(''); continue; }
    if (s === '..') {
      if (out.length === 0) return null;
      out.pop();
      if (i === parts.length - 1) out.push('');
      continue;
    }
    out.push(s);
  }
  return `/${out.join('/')}`;
}

/**
 * The path's bytes with each `%XX` decoded, as text when they are UTF-8 (a raw `é` and `%C3%A9`
 * alike), else one char a byte (`%FF` is "\xff", nginx's byte). null for what nginx refuses (400):
 * a `%` without two hex digits after it, a `%00`.
 */
function decodePath(raw: string): string | null {
  const b = bytesOf(raw);
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c !== 37) { b[n++] = c; continue; }
    if (i + 2 >= b.length) return null;
    const h = hexDigit(b[i + 1]!);
    const l = hexDigit(b[i + 2]!);
    if (h < 0 || l < 0 || (h === 0 && l === 0)) return null;
    b[n++] = (h << 4) | l;
    i += 2;
  }
  return textOf(b.subarray(0, n));
}

/** No `%`, byte above 127, `/.` or (merging) `//` in `raw`: one pass over it (three indexOf calls cost more). */
function plain(raw: string, mergeSlashes: boolean): boolean {
  const n = raw.length;
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c === 37 || c > 127) return false; // % or a byte to read as UTF-8
    if (c === 47 && i + 1 < n) {
      const d = raw.charCodeAt(i + 1);
      if (d === 46 || (d === 47 && mergeSlashes)) return false; // /. or //
    }
  }
  return true;
}
