// Changing the request headers (ngx.req.set_header / clear_header, more_set_input_headers, a new
// body's Content-Length) as lua-nginx-module does it to nginx's header list (observed on nginx +
// lua): the first line of that name (matched without case, `_` not `-`) takes the first value
// and keeps its name as received, its other lines go; more values, or a header not there, are
// lines added at the end with the name as given; clearing drops every line of that name. The
// lines (Req.reqLines) keep that order for get_headers(max, raw) and the proxy; the map by
// lower-cased name (Req.reqHeaders) follows them for $http_* and the other readers.
import type { Req } from './req.js';

/** The map entry of lower-cased `key` from the lines: undefined, one value, or the lines'. */
function entry(lines: readonly string[], key: string): string | string[] | undefined {
  let one: string | undefined;
  let all: string[] | undefined;
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (lines[i]!.length !== key.length || lines[i]!.toLowerCase() !== key) continue;
    if (one === undefined) one = lines[i + 1]!;
    else (all ??= [one]).push(lines[i + 1]!);
  }
  return all ?? one;
}

/** Sets header `name` to `values` (none: cleared), lua-nginx-module's way. */
export function setInHeader(r: Req, name: string, values: readonly string[]): void {
  const h = r.changedHeaders();
  const lines = r.reqLines!;
  const key = name.toLowerCase();
  let v = 0;
  const out: string[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (lines[i]!.length === key.length && lines[i]!.toLowerCase() === key) {
      if (v === 0 && values.length > 0) out.push(lines[i]!, values[v++]!);
      continue;
    }
    out.push(lines[i]!, lines[i + 1]!);
  }
  for (; v < values.length; v++) out.push(name, values[v]!);
  r.reqLines = out;
  h[key] = entry(out, key);
  if (h[key] === undefined) delete h[key];
}

/** more_clear_input_headers 'X-Pre*': every header whose lower-cased name starts with `prefix`. */
export function clearInHeaderPrefix(r: Req, prefix: string): void {
  const h = r.changedHeaders();
  const lines = r.reqLines!;
  const out: string[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const k = lines[i]!.toLowerCase();
    if (k.startsWith(prefix)) delete h[k];
    else out.push(lines[i]!, lines[i + 1]!);
  }
  r.reqLines = out;
}
