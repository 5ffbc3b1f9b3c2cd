// Heads node:http's parser takes and nginx 1.22 refuses (observed, test/fixtures/http-refusals.ts):
// a request line longer than a large_client_header_buffers buffer (414), a second Host or a second
// line of a header nginx keeps one of (400), a Host nginx finds invalid (400). Checked on the
// parsed request before the pipeline sees it (front-refusals.ts answers and logs).

/** Headers nginx keeps one of: a second line is refused (Content-Length and Transfer-Encoding
 *  node's parser refuses itself). */
const UNIQUE = new Set(['host', 'if-modified-since', 'if-unmodified-since', 'if-match', 'if-none-match', 'content-range', 'if-range',
  'expect', 'authorization']);

export interface HeadCheck {
  readonly status: number;
  /** nginx's words, e.g. `client sent invalid host header`. */
  readonly reason: string;
  /** The request line was not read whole by nginx: its line has no request nor host. */
  readonly inLine: boolean;
  /** The Host nginx had taken before the refused line, if any. */
  readonly host: string | undefined;
}

/**
 * The head node:http's parser may read (its `maxHeaderSize`): what nginx's large_client_header_buffers
 * hold, NUMBER buffers of SIZE (4 x 8k = 32 KB by default; node's own default, 16 KB, refused heads
 * nginx takes). A longer head is node's HPE_HEADER_OVERFLOW, answered as nginx's 494 (node-refusal.ts).
 */
export function headMax(e: { readonly largeClientHeaderBuffers: { readonly number: number; readonly size: number } }): number {
  return e.largeClientHeaderBuffers.number * e.largeClientHeaderBuffers.size;
}

/** nginx's refusal of a head node took, or null. `lineMax`: large_client_header_buffers' size. */
export function checkHead(method: string, url: string, version: string, raw: readonly string[], lineMax: number): HeadCheck | null {
  // `METHOD SP target SP HTTP/x.y CRLF` must fit one buffer
  if (method.length + url.length + version.length + 9 > lineMax) return { status: 414, reason: 'client sent too long URI', inLine: true, host: undefined };
  let seen: Map<string, string> | null = null;
  let host: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (!UNIQUE.has(lower)) continue;
    const line = `${name}: ${raw[i + 1]!}`;
    const prev = (seen ??= new Map()).get(lower);
    if (prev !== undefined) {
      const what = lower === 'host' ? 'duplicate host header' : 'duplicate header line';
      return { status: 400, reason: `client sent ${what}: "${line}", previous value: "${prev}"`, inLine: false, host };
    }
    seen.set(lower, line);
    if (lower === 'host') {
      if (!validHost(raw[i + 1]!)) return { status: 400, reason: 'client sent invalid host header', inLine: false, host: undefined };
      host = raw[i + 1]!;
    }
  }
  return null;
}

/** nginx's ngx_http_validate_host: no `..`, `/`, NUL, space or control byte; something left
 *  once a port and a trailing dot are cut. */
export function validHost(h: string): boolean {
  let end = h.length;
  let inBracket = false;
  let dot = -2;
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (c === 0x2e) { // '.'
      if (dot === i - 1) return false;
      dot = i;
    } else if (c === 0x3a) { // ':'
      if (!inBracket) { end = i; break; }
    } else if (c === 0x5b) inBracket = true;
    else if (c === 0x5d) inBracket = false;
    else if (c === 0x2f || c <= 0x20 || c === 0x7f) return false;
  }
  if (end > 0 && dot === end - 1) end--; // a trailing dot
  return end > 0;
}
