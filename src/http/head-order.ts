// nginx's order of a head (ngx_http_header_filter): the status line, Server, Date, then the fields
// it keeps apart from its header list (Content-Type, its own Content-Length, Last-Modified, a
// Location it made absolute), Transfer-Encoding, Connection, and only then the header list in the
// order it was set (X-*, ETag, a Location ngx.redirect or error_page set, a handler's own Server).
// The pipeline (request/output.ts) lists the kept-apart fields first; the exchanges put their
// Transfer-Encoding and Connection right after them with fixedRun().

/**
 * How many of the first headers nginx writes before Connection: the leading run of Server and
 * Date, then Content-Type, Content-Length, Last-Modified and Location (unless these two are in the
 * list, `lateLocation`: a Location given as a URL, a proxied answer's). `name(i)` is the i-th
 * header's name, `n` their count.
 */
export function fixedRun(name: (i: number) => string, n: number, lateLocation: boolean): number {
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
      case 13: if (!lateLocation && k.toLowerCase() === 'last-modified') { lead = false; continue; } return i;
      case 14: if (k.toLowerCase() === 'content-length') { lead = false; continue; } return i;
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
