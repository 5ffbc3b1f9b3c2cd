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

export function requestContext(c: RequestContext): string {
  let s = `, client: ${c.client}, server: ${c.server}`;
  if (c.request !== null && c.request !== '') s += `, request: "${c.request}"`;
  if (c.subrequest) s += `, subrequest: "${c.subrequest}"`;
  if (c.upstream) s += `, upstream: "${c.upstream}"`;
  const host = first(c.host);
  if (host !== undefined) s += `, host: "${host}"`;
  const ref = first(c.referrer);
  if (ref !== undefined) s += `, referrer: "${ref}"`;
  return s;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
