// client_max_body_size of the location a request's URI maps to, for the front's check of a
// Content-Length before the handler runs (nginx's 413 from its find-config phase).
import type { LocationConf, ServerConf } from '../config/types.js';
import { findLocation } from './locations.js';

/** Per server: the limit every location of it shares, or -1 when they differ. Most confs set
 *  client_max_body_size at the http or server level only: then no POST pays for a location
 *  lookup (and the URI's slicing) before the pipeline does its own (bench/README.md, "A POST's
 *  cost against a GET"). */
const shared = new WeakMap<ServerConf, number>();
let lastServer: ServerConf | null = null;
let lastShared = -1;

function sharedLimit(srv: ServerConf): number {
  if (srv === lastServer) return lastShared;
  let v = shared.get(srv);
  if (v === undefined) {
    v = srv.defaults.clientMaxBodySize;
    if (!allEqual(srv.locations, v)) v = -1;
    shared.set(srv, v);
  }
  lastServer = srv;
  lastShared = v;
  return v;
}

/** Every location findLocation can reach (nested ones too) has limit `v`. */
function allEqual(list: readonly LocationConf[], v: number): boolean {
  for (const loc of list) if (loc.clientMaxBodySize !== v || !allEqual(loc.locations, v)) return false;
  return true;
}

/** client_max_body_size for `url` (the raw target) in `srv`; 0 = no limit. */
export function bodyLimit(srv: ServerConf, url: string): number {
  const v = sharedLimit(srv);
  if (v >= 0) return v;
  const q = url.search(/[?#]/); // a fragment is no part of the path
  let uri = q < 0 ? url : url.slice(0, q);
  // No '%': nothing to decode (decodeURIComponent was a visible part of a POST's cost).
  if (uri.includes('%')) try { uri = decodeURIComponent(uri); } catch { /* the pipeline answers 400 for a bad URI */ }
  return (findLocation(srv, uri) ?? srv.defaults).clientMaxBodySize;
}
