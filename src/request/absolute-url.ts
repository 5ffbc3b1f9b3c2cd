// Location headers made absolute, as nginx's absolute_redirect, port_in_redirect and
// server_name_in_redirect make them.

import type { LocationConf } from '../config/types.js';
import { serverName } from '../http/vhost.js';
import type { Req } from './req.js';

/**
 * An absolute URL for a Location that starts with `/` (nginx's absolute_redirect): the Host
 * header's name (else the server's address) and the port the request came in on, unless it is
 * the scheme's default (port_in_redirect). A subrequest's Location stays as set.
 */
export function absoluteUrl(r: Req, loc: string): string {
  // Server-level rewrite ops run before a location is chosen: the server's own flags then.
  const std = ((r.loc as LocationConf | undefined) ?? r.server.defaults).std;
  if (!loc.startsWith('/') || r.parent !== null || std.relativeRedirect) return loc;
  const ex = r.ex;
  const h = r.inHeaders.host;
  // server_name_in_redirect on: the server's first name (nginx's primary), when it has one.
  const own = std.serverNameInRedirect ? serverName(r.server) : '';
  let host = own || (typeof h === 'string' && h ? h : ex.localAddress);
  const colon = host.startsWith('[') ? host.indexOf(':', host.indexOf(']')) : host.indexOf(':');
  if (colon > 0 && !own) host = host.slice(0, colon);
  const port = std.noPortInRedirect || ex.localPort === (ex.scheme === 'https' ? 443 : 80) ? '' : `:${ex.localPort}`;
  return `${ex.scheme}://${host}${port}${loc}`;
}
