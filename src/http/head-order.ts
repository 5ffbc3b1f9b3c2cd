// nginx's order of a head (ngx_http_header_filter): the status line, Server, Date, then the fields
// it keeps apart from its header list (Content-Type, its own Content-Length, Last-Modified, a
// Location it made absolute), Transfer-Encoding, Connection, and only then the header list in the
// order it was set (X-*, ETag, a Location ngx.redirect or error_page set, a handler's own Server).
// The pipeline (request/output.ts) lists the kept-apart fields first; the exchanges put their
// Transfer-Encoding and Connection right after them with fixedRun(). A Content-Length, Location or
// Last-Modified a handler set (ngx.header) is in the list (lua-nginx-module puts them there), as is
// a handler's own Connection or Transfer-Encoding: nginx writes its own before it, frames the body
// and keeps the connection as it would without it (observed on nginx 1.22 + lua).

/**
 * How many of the first headers nginx writes before Connection: the leading run of Server and
 * Date, then Content-Type, Content-Length, Last-Modified and Location (unless these two are in the
 * list, `lateLocation`: a Location given as a URL, a proxied answer's, a handler's; Last-Modified
 * apart when `lateModified` says), Content-Length unless a handler set it (`lateLength`). `name(i)`
 * is the i-th header's name, `n` their count.
 */
export function fixedRun(name: (i: number) => string, n: number, lateLocation: boolean, lateLength = false, lateModified = lateLocation): number {
  let lead = true;
  for (let i = 0; i < n; i++) {
    const k = name(i);
    switch (k.length) {
      case 4: case 6: {
        const l = k.toLowerCase();
        if (lead && (l === 'date' || l === 'server')) continue;
        return i;
      }
      case 8: if (!lateLocation && k.toLowerCase() === 'location') { lead = false; continue; } return i;
      case 12: if (k.toLowerCase() === 'content-type') { lead = false; continue; } return i;
      case 13: if (!lateModified && k.toLowerCase() === 'last-modified') { lead = false; continue; } return i;
      case 14: if (!lateLength && k.toLowerCase() === 'content-length') { lead = false; continue; } return i;
      default: return i;
    }
  }
  return n;
}

/**
 * node:http writes its own Connection line after every header it was given: moved to nginx's
 * place, after the first `fixed` header lines of `head` (a whole head: status line to the empty
 * line). A head without node's line at its end (a handler's own Connection) is left as it is.
 */
export function connectionAfter(head: string, fixed: number): string {
  const m = /\r\n(Connection: [^\r\n]*\r\n)\r\n$/.exec(head);
  if (m === null) return head;
  let at = head.indexOf('\r\n') + 2;
  for (let i = 0; i < fixed && at > 1; i++) at = head.indexOf('\r\n', at) + 2;
  const end = m.index + 2;
  if (at <= 1 || at >= end) return head;
  return head.slice(0, at) + m[1] + head.slice(at, end) + '\r\n';
}

/** A handler's own Connection or Transfer-Encoding line: the `at`-th of the answer's headers. */
export type HopLine = readonly [at: number, name: string, value: string];

/**
 * The handler's Connection and Transfer-Encoding entries taken out of `flat` ([name, value, ...]),
 * so that node:http frames and keeps the connection as nginx would, and writes its own lines.
 */
export function takeHopLines(flat: string[]): HopLine[] {
  const taken: HopLine[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i]!;
    if ((k.length === 10 && k.toLowerCase() === 'connection') || (k.length === 17 && k.toLowerCase() === 'transfer-encoding')) {
      taken.push([(i >> 1) + taken.length, k, flat[i + 1]!]);
      flat.splice(i, 2);
      i -= 2;
    }
  }
  return taken;
}

/**
 * `head` (status line to the empty line) with the `lines` takeHopLines took put back at their
 * place, after the `before` lines the exchange wrote ahead of them (its Connection, Transfer-Encoding).
 */
export function putHopLines(head: string, lines: readonly HopLine[], before: number): string {
  for (const [at, k, v] of lines) {
    let p = head.indexOf('\r\n') + 2;
    for (let i = 0; i < at + before && p > 1; i++) p = head.indexOf('\r\n', p) + 2;
    if (p <= 1) p = head.length - 2;
    head = `${head.slice(0, p)}${k}: ${v}\r\n${head.slice(p)}`;
  }
  return head;
}
