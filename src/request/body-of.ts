// The request body, taken for the location that reads it: nginx reads a body under the
// client_body_timeout of the location whose handler (or proxy_pass) asked for it.
import type { Req } from './req.js';

/** r.ex.body, with the location's client_body_timeout handed to the exchange first. */
export function bodyOf(r: Req): AsyncIterable<Uint8Array> {
  r.ex.bodyTimeout = r.loc.engine.clientBodyTimeout;
  return r.ex.body;
}
