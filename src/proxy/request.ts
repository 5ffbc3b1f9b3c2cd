// The request line and headers the proxy sends, by nginx's rules: the URI from proxy_pass and
// the location, proxy_set_header entries (an empty value drops the header) over the defaults
// `Host: $proxy_host` and `Connection: close`, then the client's headers unless
// proxy_pass_request_headers is off, leaving out the hop-by-hop ones nginx leaves out.

import type { ProxyConf, ProxyPass } from '../config/types.js';
import type { Req } from '../request/req.js';
import { parseTarget } from '../request/uri.js';

export type Template = (r: Req) => string;
export type Compile = (text: string) => Template;

/** Client headers never passed as they are: the proxy sets or drops them itself. */
const OWN = ['host', 'connection', 'content-length', 'transfer-encoding', 'te', 'keep-alive', 'expect', 'upgrade'];

const CACHE_SKIP = ['if-modified-since', 'if-unmodified-since', 'if-none-match', 'if-match', 'range', 'if-range'];

export interface HeadPlan {
  readonly version: string;
  /** [name, value] with constant values, or [name, template]. */
  readonly set: ReadonlyArray<readonly [string, string | Template]>;
  /** Lower-cased names of client headers not to pass. */
  readonly skip: ReadonlySet<string>;
  readonly passClient: boolean;
}

export function planHead(conf: ProxyConf, compile: Compile): HeadPlan {
  const set: Array<readonly [string, string | Template]> = [];
  const named = new Set<string>();
  const add = (name: string, value: string): void => {
    named.add(name.toLowerCase());
    set.push([name, value.includes('$') ? compile(value) : value]);
  };
  for (const [n, v] of conf.setHeaders) add(n, v);
  if (!named.has('host')) add('Host', '$proxy_host');
  if (!named.has('connection')) add('Connection', 'close');
  // With proxy_cache, nginx's defaults drop the client's conditions and ranges: what is stored
  // is the whole answer, whatever one client asked.
  const cacheSkip = conf.cache !== null ? CACHE_SKIP.filter((n) => !named.has(n)) : [];
  return {
    version: conf.httpVersion,
    set,
    skip: new Set([...OWN, ...named, ...cacheSkip]),
    passClient: conf.passRequestHeaders,
  };
}

const CRLF_IN = /[\r\n]/g;

/** The request head: request line, headers, the body's framing, and the blank line. */
export function requestHead(r: Req, plan: HeadPlan, method: string, uri: string, bodyLength: number | null): string {
  let s = `${method} ${uri} HTTP/${plan.version}\r\n`;
  for (const [name, v] of plan.set) {
    const value = typeof v === 'string' ? v : v(r);
    if (value === '') continue;
    s += `${name}: ${value.includes('\r') || value.includes('\n') ? value.replace(CRLF_IN, ' ') : value}\r\n`;
  }
  // The framing where nginx's default headers put it: after Host and Connection, before the
  // client's lines (compat-req-writers-fuzz).
  if (bodyLength !== null) s += bodyLength >= 0 ? `Content-Length: ${bodyLength}\r\n` : 'Transfer-Encoding: chunked\r\n';
  if (plan.passClient) s += clientHeaders(r, plan.skip);
  return `${s}\r\n`;
}

function clientHeaders(r: Req, skip: ReadonlySet<string>): string {
  let s = '';
  // As received, or as changed (names kept, nginx's order: request/in-headers.ts).
  const raw = r.reqLines ?? r.ex.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i]!;
    if (!skip.has(n.toLowerCase())) s += `${n}: ${raw[i + 1]}\r\n`;
  }
  return s;
}

// nginx's NGX_ESCAPE_URI: space, `#`, `%`, `?`, control bytes and non-ASCII are escaped.
const UNSAFE = /[\x00-\x20#%?\x7f-\uffff]/; // eslint-disable-line no-control-regex

export function escapeUri(s: string): string {
  if (!UNSAFE.test(s)) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b <= 0x20 || b === 0x23 || b === 0x25 || b === 0x3f || b >= 0x7f
      ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
  }
  return out;
}

/** The client's URI was not changed (by a rewrite, set_uri, an internal redirect or a subrequest). */
function unchanged(r: Req): boolean {
  if (r.parent !== null || r.cycles > 0) return false;
  const raw = r.requestUri;
  if (raw === (r.args === '' ? r.uri : `${r.uri}?${r.args}`)) return true;
  const t = parseTarget(raw);
  return t !== null && t.uri === r.uri && t.args === r.args;
}

/**
 * The URI sent upstream (nginx's rules). Without a URI part in proxy_pass, the client's URI goes
 * as it was sent (or the changed, normalized URI when it was changed); with one, the part of the
 * URI that matched the location is replaced by it.
 */
export function upstreamUri(r: Req, pass: ProxyPass): string {
  const args = r.args === '' ? '' : `?${r.args}`;
  if (pass.uri === null) return unchanged(r) ? r.requestUri : escapeUri(r.uri) + args;
  const prefix = pass.prefix;
  const valid = r.uri.startsWith(prefix) && (r.cycles > 0 || r.parent !== null || unchangedPath(r));
  return valid ? pass.uri + escapeUri(r.uri.slice(prefix.length)) + args : escapeUri(r.uri) + args;
}

function unchangedPath(r: Req): boolean {
  const t = parseTarget(r.requestUri);
  return t !== null && t.uri === r.uri;
}
