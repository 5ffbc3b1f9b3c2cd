// nginx variables as ngx.var and conf templates see them: built-ins computed from the request,
// prefixed families ($arg_, $http_, $cookie_, $sent_http_) and variables declared with `set`.

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { TrestyError } from '../errors.js';
import type { Req } from '../request/req.js';
import { logReq } from '../request/report.js';
import type { LocationConf } from '../config/types.js';
import type { TemplateParts } from '../config/types-access.js';
import { templateParts } from '../config/template-parts.js';
import { upstreamVar } from '../request/upstream.js';
import { sentDefault } from './resp-headers.js';
import { setLimitRate } from '../request/limit-rate.js';
import { addrBytes } from '../config/addr.js';
import { requestHost } from '../http/request-host.js';
import { normalizeHost, serverName, serverRegexMatch } from '../http/vhost.js';
import { cookieValue } from './cookie-line.js';
import { evalParts, mapValue } from './map.js';
import { splitValue } from './split-clients.js';
import { invalidReferer } from './referer.js';
import { secureLink } from './secure-link.js';
import { uidGot, uidSet } from './userid.js';
import { browserVar } from './browser.js';
import { uaFlags, userAgent } from '../request/user-agent.js';
import { msec, timeIso, timeLocal } from './time.js';
import { statusCounts } from '../status/counters.js';
import { sslVar, sslVarNames } from '../tls/vars.js';

type Getter = (r: Req) => string | undefined;

function hostOf(r: Req): string {
  // an absolute target's host wins over the Host header, as nginx's $host
  const v = requestHost(r.ex.url, r.inHeaders.host);
  if (v) {
    const h = normalizeHost(v); // no port, no trailing dot, lower case (nginx's validate_host)
    if (h) return h;
  }
  return serverName(r.server) || r.ex.localAddress;
}

/**
 * `$http_NAME`: as nginx 1.22's, the first line of a header sent twice; `Cookie` and
 * `X-Forwarded-For` are all their lines joined (`; `, `, `).
 */
function headerValue(r: Req, name: string): string | undefined {
  const v = r.inHeaders[name] ?? (r.reqHeaders !== null ? underscored(r.reqHeaders, name) : undefined);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return name === 'cookie' ? v.join('; ') : name === 'x-forwarded-for' ? v.join(', ') : v[0];
  // A header sent twice is joined with ", " in `headers` (node's shape): take the first line.
  if (r.reqHeaders !== null || v.indexOf(',') < 0 || name === 'cookie' || name === 'x-forwarded-for') return v;
  const rh = r.ex.rawHeaders;
  for (let i = 0; i + 1 < rh.length; i += 2) {
    if (rh[i].length === name.length && rh[i].toLowerCase() === name) return rh[i + 1];
  }
  return v;
}

/** A header set with `_` in its name (set_header keeps it): nginx's $http_a_b matches `a_b` too. */
function underscored(h: Record<string, string | string[] | undefined>, name: string): string | string[] | undefined {
  if (!name.includes('-')) return undefined;
  for (const k of Object.keys(h)) if (k.includes('_') && k.replace(/_/g, '-') === name) return h[k];
  return undefined;
}

/**
 * $args: not found (nil in ngx.var, `-` in the access log) for a request that came with no query
 * (`/a`, `/a?`), as nginx's; empty but found once a query that came was dropped (`rewrite ^ /t?`
 * gives nginx's `args=` in ngx.say). Req keeps a string only, so the received target tells.
 */
function argsOf(r: Req): string | undefined {
  if (r.args) return r.args;
  if (r.argsMark !== null) return r.argsMark ? '' : undefined;
  const u = r.ex.url;
  const q = u.indexOf('?');
  let end = u.indexOf('#'); // a fragment ends the query; one before `?` leaves none (nginx)
  if (end < 0) end = u.length;
  return q >= 0 && q < end - 1 ? '' : undefined;
}

/** $remote_user: the user of a Basic Authorization header (checked or not, as nginx's). */
function remoteUser(r: Req): string | undefined {
  const h = r.inHeaders.authorization;
  const v = typeof h === 'string' ? h : h?.[0];
  if (v === undefined || v.length < 6 || v.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const raw = Buffer.from(v.slice(6).trim(), 'base64').toString('latin1');
  const colon = raw.indexOf(':');
  return colon < 0 ? undefined : raw.slice(0, colon);
}

/** Seconds since the connection was accepted, to the millisecond (`0.012`). */
function connectionTime(r: Req): string {
  const ex = r.main.ex;
  const start = ex.connectionStart ?? (ex.connectionAgeMs === undefined ? Date.now() : r.main.startMs - ex.connectionAgeMs);
  return (Math.max(0, Date.now() - start) / 1000).toFixed(3);
}

const rootParts = new WeakMap<LocationConf, TemplateParts>();

/** The location's root; one with variables evaluated for the request, relative to the prefix. */
function docRoot(r: Req): string {
  const root = r.loc.root;
  if (!root.includes('$')) return root;
  let parts = rootParts.get(r.loc);
  if (parts === undefined) rootParts.set(r.loc, parts = templateParts(root));
  return path.resolve(r.w.conf.prefix, evalParts(r, parts, getVar));
}

/** $nginx_version: the nginx release tresty's semantics are checked against (test/compat-*). */
export const NGINX_VERSION = '1.22.1';

const BUILTIN = new Map<string, Getter>([
  // Empty only for a request whose line never ended (a client gone in it): nginx logs "-".
  ['uri', (r) => r.uri || undefined],
  ['document_uri', (r) => r.uri],
  ['args', argsOf],
  ['query_string', argsOf],
  ['is_args', (r) => (r.args ? '?' : '')],
  // A subrequest's are its main request's, as nginx's (it copies unparsed_uri; r->main->method_name).
  ['request_uri', (r) => r.main.requestUri || undefined],
  ['request_method', (r) => r.main.method],
  // The line as received where the front kept it (nginx's request_line: a refused one too).
  // Else (node:http) rebuilt from the target as received: an absolute one stays absolute.
  ['request', (r) => { const x = r.main.ex; return x.requestLine ?? `${x.method} ${x.url} HTTP/${x.httpVersion}`; }],
  ['server_protocol', (r) => `HTTP/${r.ex.httpVersion}`],
  ['scheme', (r) => r.ex.scheme],
  ['https', (r) => (r.ex.scheme === 'https' ? 'on' : '')],
  ['host', hostOf],
  ['hostname', () => os.hostname()],
  ['server_name', (r) => serverName(r.server)],
  ['server_addr', (r) => r.ex.localAddress],
  ['server_port', (r) => String(r.ex.localPort)],
  ['remote_addr', (r) => r.remoteAddr],
  // The address's 4 or 16 bytes, one char per byte (limit_req_zone's usual key).
  ['binary_remote_addr', (r) => { const b = addrBytes(r.remoteAddr); return b === null ? '' : Buffer.from(b).toString('latin1'); }],
  ['remote_port', (r) => (r.main.realAddr !== null ? r.main.realPort : String(r.ex.remotePort))],
  ['realip_remote_addr', (r) => r.ex.remoteAddress],
  ['realip_remote_port', (r) => String(r.ex.remotePort)],
  ['limit_req_status', (r) => r.main.limitReqStatus || undefined],
  ['limit_conn_status', (r) => r.main.limitConnStatus || undefined],
  // 0 until the first write decides the location's (nginx's r->limit_rate), or what a handler set.
  ['limit_rate', (r) => String(Math.max(r.main.limitRate, 0))],
  ['invalid_referer', (r) => invalidReferer(r, ((r.loc as LocationConf | undefined) ?? r.server.defaults).referers)],
  ['secure_link', (r) => secureLink(r, ((r.loc as LocationConf | undefined) ?? r.server.defaults).secureLink, getVar)],
  // Set by $secure_link when read (r.vars), as nginx's module context: no value before.
  ['secure_link_expires', () => undefined],
  // the userid module's (api/userid.ts); $uid_reset is empty until `set` or ngx.var writes it
  ['uid_got', (r) => uidGot(r)],
  ['uid_set', (r) => uidSet(r, getVar)],
  ['uid_reset', () => ''],
  // the browser module's
  ['msie', (r) => (uaFlags(userAgent(r)).msie ? '1' : '')],
  ['modern_browser', (r) => browserVar(r, true)],
  ['ancient_browser', (r) => browserVar(r, false)],
  ['remote_user', remoteUser],
  ['status', (r) => String(r.status).padStart(3, '0')], // nginx's %03ui: "000" before a status, "099"
  ['request_time', (r) => ((Date.now() - r.startMs) / 1000).toFixed(3)],
  ['body_bytes_sent', (r) => String(r.ex.bytesSent)],
  // The head as sent too, status line to blank line (nginx counts every byte it wrote).
  ['bytes_sent', (r) => String((r.ex.headBytes ?? 0) + r.ex.bytesSent)],
  ['request_length', (r) => (r.main.ex.requestLength === undefined ? undefined : String(r.main.ex.requestLength))],
  ['time_local', () => timeLocal()],
  ['time_iso8601', () => timeIso()],
  ['msec', () => msec()],
  ['pid', () => String(process.pid)],
  // 16 random bytes in hex, made when first read and the same for the whole request (subrequests too)
  ['request_id', (r) => (r.main.requestId ??= randomBytes(16).toString('hex'))],
  // the connection's number, as in the error log's `*N`; an HTTP/2 stream's is its connection's
  ['connection', (r) => String(r.main.ex.connection ?? r.main.serial)],
  ['connection_requests', (r) => String(r.main.ex.connectionRequests ?? 1)],
  ['connection_time', connectionTime],
  ['pipe', (r) => (r.main.ex.pipelined === true ? 'p' : '.')],
  ['http2', (r) => (r.main.ex.httpVersion === '2.0' ? 'h2' : '')],
  // the nginx whose behaviour tresty follows (lua code compares it)
  ['nginx_version', () => NGINX_VERSION],
  // stub_status's counters, across all workers (src/status/counters.ts).
  ['connections_active', () => String(statusCounts().active)],
  ['connections_reading', () => String(statusCounts().reading)],
  ['connections_writing', () => String(statusCounts().writing)],
  ['connections_waiting', () => String(statusCounts().waiting)],
  ['content_type', (r) => headerValue(r, 'content-type')],
  // Without the header, a chunked body once read has its length (nginx 1.22 sets content_length_n).
  // In a temp file (client_body_buffer_size) too.
  ['content_length', (r) => headerValue(r, 'content-length') ?? (r.inHeaders['transfer-encoding'] === undefined ? undefined
    : r.body != null ? String(r.body.length) : r.bodyFile !== null ? String(r.bodyFile.size) : undefined)],
  ['document_root', docRoot],
  ['realpath_root', docRoot],
  // With a constant `alias` in a prefix location, the alias in place of the matched part (nginx's
  // map_uri_to_path); an alias with variables or in a regex location is the static module's only.
  ['request_filename', (r) => {
    const a = r.loc.files.alias;
    return a === undefined || a.regex !== null || a.path.includes('$') ? docRoot(r) + r.uri : a.path + r.uri.slice(a.strip);
  }],
  ['request_body', (r) => (r.body ? r.body.toString('utf8') : undefined)],
  ['request_body_file', (r) => r.bodyFile?.path],
  // "OK" once the request ended normally (not cut, not terminated): the log phase's. Read before,
  // it is "" and stays so for the request (nginx caches it: a `return 200 $request_completion`
  // logs "" too).
  ['request_completion', (r) => {
    if (r.main.completed) return 'OK';
    (r.vars ??= Object.create(null) as Record<string, string>).request_completion = '';
    return '';
  }],
  // $ssl_*: the connection's TLS session (tls/vars.ts), of either TLS path
  ...sslVarNames().map((n): [string, Getter] => [n, (r) => sslVar(n, r.main.ex.tlsInfo?.() ?? null)]),
]);

/** The names BUILTIN computes (test/var-names.test.ts holds config/var-names.ts to them). */
export function builtinVarNames(): string[] {
  return [...BUILTIN.keys()];
}

/** Value of `$name`, or undefined when the variable is not found or has no value. */
export function getVar(r: Req, name: string): string | undefined {
  const vars = r.vars;
  if (vars !== null) {
    const v = vars[name];
    if (v !== undefined) return v;
  }
  const http = r.w.conf.http;
  const maps = http !== null && http.maps.size > 0 ? http.maps : null;
  // A map before the built-ins: the conf allows one only onto a changeable built-in ($args,
  // $limit_rate), and nginx's map then replaces that variable's getter.
  const m = maps?.get(name);
  if (m !== undefined) {
    const v = mapValue(r, m, getVar);
    // Cached for the request as nginx caches a variable; a volatile map is read afresh each time,
    // and so is one onto $args / $limit_rate (nginx's are not cacheable).
    if (!m.volatile && !BUILTIN.has(name)) (r.vars ??= Object.create(null) as Record<string, string>)[name] = v;
    return v;
  }
  const get = BUILTIN.get(name);
  if (get !== undefined) return get(r);
  const split = http !== null && http.splitClients.size > 0 ? http.splitClients.get(name) : undefined;
  if (split !== undefined) {
    const v = splitValue(r, split, getVar);
    if (v !== undefined) (r.vars ??= Object.create(null) as Record<string, string>)[name] = v;
    return v;
  }
  if (maps !== null && http!.mapCaptures.has(name)) return '';
  const c = name.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    const caps = r.captures ?? serverCaptures(r);
    return caps?.[Number(name)] ?? (caps === null ? undefined : '');
  }
  if (name.startsWith('arg_')) return argValue(r.args, name.slice(4));
  if (name.startsWith('http_')) return headerValue(r, name.slice(5).replace(/_/g, '-').toLowerCase());
  if (name.startsWith('cookie_')) return cookieValue(r.inHeaders.cookie, name.slice(7));
  if (name.startsWith('sent_http_')) {
    // $sent_http_content_type names Content-Type: underscores are dashes, as in $http_*. nginx's
    // own fields (type, length) read as ngx.header does; a cleared one ('') is not found.
    const key = name.slice(10).replace(/_/g, '-').toLowerCase();
    const v = r.headers?.get(key);
    if (v === '') return undefined;
    return v === undefined ? sentDefault(r, key) : typeof v === 'string' ? v : v.join(', ');
  }
  // Gateway (issue 14): $upstream_*, $proxy_host, $proxy_add_x_forwarded_for ...
  if (name.startsWith('upstream_') || name.startsWith('proxy_')) {
    const v = upstreamVar(r, name);
    if (v !== undefined) return v;
  }
  const sc = serverCapture(r, name);
  if (sc !== undefined) return sc;
  if (r.server.declaredVariables.has(name)) {
    uninitialized(r, name);
    return '';
  }
  return undefined;
}

/** The match of the server_name regex that chose the server, found again from the request's
 *  host when first read (nginx runs it when choosing the server; tresty only when asked). */
function serverMatch(r: Req): RegExpExecArray | null {
  const h = requestHost(r.ex.url, r.inHeaders.host);
  return h === undefined ? null : serverRegexMatch(r.server, normalizeHost(h));
}

/** $1.. before any regex of the request's own ran: the server_name regex's, kept as nginx's. */
function serverCaptures(r: Req): RegExpExecArray | null {
  if (!r.server.serverNames.some((n) => n.kind === 'regex')) return null;
  const m = serverMatch(r);
  if (m !== null) r.captures = m;
  return m;
}

/**
 * A named capture of the server's `server_name ~regex` (`(?<sub>...)`), as nginx sets it when the
 * regex picked the server.
 */
function serverCapture(r: Req, name: string): string | undefined {
  // `name` is lowercase; the regex's group may not be (nginx declares it lowercased)
  if (!r.server.serverNames.some((n) => n.kind === 'regex' && n.value.toLowerCase().includes(`<${name}>`))) return undefined;
  const groups = serverMatch(r)?.groups;
  if (groups === undefined) return undefined;
  for (const k in groups) if (k.toLowerCase() === name) return groups[k] ?? undefined;
  return undefined;
}

/**
 * A `set` variable read before any `set` gave it a value: nginx's warning (uninitialized_variable_warn,
 * on by default), once per variable and request, as nginx then keeps the empty value.
 */
function uninitialized(r: Req, name: string): void {
  if (((r.loc as LocationConf | undefined) ?? r.server.defaults).std.noUninitializedWarn) return;
  const seen = (r.uninitialized ??= new Set());
  if (seen.has(name)) return;
  seen.add(name);
  logReq(r, 'warn', `using uninitialized "${name}" variable`);
}

/** `ngx.var.NAME = v`: only `set`-declared variables and $args are writable. */
export function setVar(r: Req, name: string, value: unknown): void {
  const s = value === undefined || value === null ? '' : String(value);
  if (name === 'args') { r.args = s; return; }
  if (name === 'limit_rate') { setLimitRate(r, s); return; }
  if (r.server.declaredVariables.has(name) || name === 'uid_reset' || r.w.conf.http?.maps.has(name)) {
    (r.vars ??= Object.create(null) as Record<string, string>)[name] = s;
    return;
  }
  // The prefixed families are no entries of nginx's table: OpenResty says "not found" for them.
  if (BUILTIN.has(name)) throw new TrestyError('TRESTY_ERR_VAR_UNDECLARED', `variable "${name}" not changeable`);
  throw new TrestyError('TRESTY_ERR_VAR_UNDECLARED',
    `variable "${name}" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use "set $${name} '';" in the config file to define it first`);
}

/** `$arg_NAME`: the raw (undecoded) value of the first NAME= in the query string (the name's case aside). */
export function argValue(args: string, name: string): string | undefined {
  if (!args) return undefined;
  const lname = name.toLowerCase();
  let start = 0;
  while (start <= args.length) {
    let end = args.indexOf('&', start);
    if (end < 0) end = args.length;
    const eq = args.indexOf('=', start);
    const keyEnd = eq >= 0 && eq < end ? eq : end;
    // A key without `=` (`?a&a=1`) is not NAME's: nginx looks for `NAME=` only.
    if (keyEnd < end && keyEnd - start === name.length && args.slice(start, keyEnd).toLowerCase() === lname) {
      return args.slice(keyEnd + 1, end);
    }
    start = end + 1;
  }
  return undefined;
}

const UPPER = /[A-Z]/;
/** As lua-nginx-module, ngx.var.HOST is ngx.var.host: nginx's variable names are lowercase. */
function lower(name: string): string {
  return UPPER.test(name) ? name.toLowerCase() : name;
}

/** ngx.var: a view of the request's variables (built on first touch of ngx.var). */
export function varProxy(r: Req, check: () => void): Record<string, string | undefined> {
  return new Proxy(Object.create(null) as Record<string, string | undefined>, {
    get(_t, name) {
      check();
      return typeof name === 'string' ? getVar(r, lower(name)) : undefined;
    },
    set(_t, name, value) {
      check();
      if (typeof name === 'string') setVar(r, lower(name), value);
      return true;
    },
    has(_t, name) {
      return typeof name === 'string' && getVar(r, lower(name)) !== undefined;
    },
  });
}
