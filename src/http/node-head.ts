// The Server and Date headers node:http's answers carry: first, as nginx (and the native
// engine, native-exchange.ts) sends them, and node's own Date (which it puts last) turned off.
import type { ServerResponse } from 'node:http';
import { httpDate } from './http-date.js';
import { software } from './software.js';

/**
 * `flat` ([name, value, ...]) with `Server: tresty` (server_tokens, software.ts) and the Date in front, each unless the
 * answer sets it itself (a handler's own Server replaces tresty's, as nginx's does).
 */
export function withLead(res: ServerResponse, flat: string[]): string[] {
  res.sendDate = false;
  // No `Keep-Alive: timeout=N` (nginx sends `Connection: keep-alive` only). node reads the
  // response's copy for the header alone; the socket's idle timeout is the server's.
  (res as ServerResponse & { _keepAliveTimeout: number })._keepAliveTimeout = 0;
  let server = false;
  let date = false;
  for (let i = 0; i < flat.length; i += 2) {
    const n = flat[i]!;
    if (n.length === 6 && n.toLowerCase() === 'server') {
      server = true;
      // Cleared (more_clear_headers Server): no Server line at all.
      if (flat[i + 1] === '') { flat = flat.slice(0, i).concat(flat.slice(i + 2)); i -= 2; }
    }
    else if (n.length === 4 && n.toLowerCase() === 'date') date = true;
  }
  if (server && date) return flat;
  const lead: string[] = [];
  if (!server) lead.push('Server', software());
  if (!date) lead.push('Date', httpDate());
  return lead.concat(flat);
}
