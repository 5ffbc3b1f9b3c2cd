// One `resolver` address as nginx parses it (ngx_parse_url, then getaddrinfo for a name):
// `IP`, `IP:PORT`, `[IPv6]`, `[IPv6]:PORT` or `NAME[:PORT]` (port 53 by default). A name is
// looked up once at load and each of its addresses becomes a DNS server; the errors are nginx's.

import net from 'node:net';
import type { Directive } from './ast.js';
import { confError, type ResolveContext } from './table.js';
import { parsePort } from './values.js';

/** The DNS servers (`ip:port`, `[ip6]:port`, as node:dns setServers takes them, or `unix:PATH`) one address names. */
export function resolverServers(d: Directive, a: string, ctx: ResolveContext): string[] {
  const bad = (what: string): never => { throw confError('TRESTY_ERR_CONF_VALUE', `${what} in resolver "${a}"`, d); };
  // A unix socket: nginx takes it (its queries then fail to connect: request/resolver-unix.ts).
  if (a.startsWith('unix:')) {
    if (a.length === 5) throw confError('TRESTY_ERR_CONF_VALUE', `no path in the unix domain socket in resolver "${a}"`, d);
    return [a];
  }
  // A path or query part: nginx's "invalid host" (a resolver is no URL).
  if (/[/?]/.test(a)) bad('invalid host');
  let host: string;
  let port: string | undefined;
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    if (end < 0) bad('invalid host');
    host = a.slice(1, end);
    const rest = a.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) bad('invalid host');
    if (rest !== '') port = rest.slice(1);
  } else {
    const colon = a.indexOf(':');
    host = colon < 0 ? a : a.slice(0, colon);
    if (colon >= 0) port = a.slice(colon + 1);
  }
  // The port before the host, as nginx: a bare `::1` is "invalid port" (IPv6 takes brackets).
  if (port !== undefined && parsePort(port) === null) bad('invalid port');
  if (host === '') bad('no host');
  if (a.startsWith('[') && !net.isIPv6(host)) bad('invalid IPv6 address');
  const p = port ?? '53';
  const addrs = net.isIP(host) !== 0 ? [host] : ctx.lookupHost(host);
  if (addrs.length === 0) bad('host not found');
  return addrs.map((ip) => (net.isIPv6(ip) ? `[${ip}]:${p}` : `${ip}:${p}`));
}
