// Query strings and form bodies as OpenResty reads and writes them: repeated keys become
// arrays, a key without `=` is `true`.

export type Args = Record<string, string | boolean | Array<string | boolean>>;

function unescape(s: string): string {
  const plus = s.indexOf('+') >= 0 ? s.replace(/\+/g, ' ') : s;
  if (plus.indexOf('%') < 0) return plus;
  try { return decodeURIComponent(plus); } catch { return plus; }
}

export function decodeArgs(s: string, max = 100): Args {
  const out: Args = {};
  if (!s) return out;
  let n = 0;
  for (const part of s.split('&')) {
    if (part === '') continue;
    if (max > 0 && ++n > max) break;
    const eq = part.indexOf('=');
    const key = unescape(eq < 0 ? part : part.slice(0, eq));
    const val: string | boolean = eq < 0 ? true : unescape(part.slice(eq + 1));
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
      else if (x !== false && x !== undefined && x !== null) parts.push(`${key}=${encodeURIComponent(String(x))}`);
    }
  }
  return parts.join('&');
}
