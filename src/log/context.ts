// The context nginx appends to an error-log line about a request (ngx_http_log_error_handler):
// `, client: A, server: NAME, request: "LINE"`, then `subrequest:`, `upstream:`, `host:` and
// `referrer:` where they apply, in that order. `server:` is always there, empty for a server
// with no server_name (checked against nginx 1.22).

export interface RequestContext {
  readonly client: string;
  /** The server's first server_name, '' when it has none. */
  readonly server: string;
  /** The request line as received (without CRLF), or null when none was read yet. */
  readonly request: string | null;
  /** The subrequest's URI, for a line about a subrequest. */
  readonly subrequest?: string | null;
  /** `http://PEER/URI` of the upstream being talked to. */
  readonly upstream?: string | null;
  readonly host?: string | string[] | undefined;
  readonly referrer?: string | string[] | undefined;
}

/**
 * The context as bytes, one char per byte (ErrorLog.log's `bytes`): the request line, host and
 * referrer are the client's bytes as read (latin1) and stay so, as nginx writes them unescaped;
 * the server name (from the conf) is its UTF-8 bytes.
 */
export function requestContext(c: RequestContext): string {
  let s = `, client: ${c.client}, server: ${utf8Bytes(c.server)}`;
  if (c.request !== null && c.request !== '') s += `, request: "${c.request}"`;
  if (c.subrequest) s += `, subrequest: "${wide(c.subrequest)}"`;
  if (c.upstream) s += `, upstream: "${wide(c.upstream)}"`;
  const host = first(c.host);
  if (host !== undefined) s += `, host: "${host}"`;
  const ref = first(c.referrer);
  if (ref !== undefined) s += `, referrer: "${ref}"`;
  return s;
}

/** `s` (text) as its UTF-8 bytes, one char per byte. */
export function utf8Bytes(s: string): string {
  return /[^\x00-\x7f]/.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

/** A URI made in JS may hold text beyond bytes: those as UTF-8; one of bytes stays as it is. */
function wide(s: string): string {
  return /[^\x00-\xff]/.test(s) ? utf8Bytes(s) : s;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
