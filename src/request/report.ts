// Error log lines about a request, in nginx's shape: `*N message, client: ..., server: ...,
// request: "...", host: "..."` (src/log/context.ts). A handler's throw is worded in failure.ts.

import type { LogLevel } from '../config/types.js';
import { bindName } from '../http/binds.js';
import { serverName } from '../http/vhost.js';
import { peerContext, requestContext } from '../log/index.js';
import type { Call } from './call.js';
import { CTX } from './context.js';
import type { Req } from './req.js';

/** nginx's action in its log phase, said by every line written there before the context. */
export const LOGGING = ' while logging request';

/** `upstream` (`http://PEER/URI`) goes in the context's place for it, as nginx orders it. */
export function logReq(r: Req, level: LogLevel, msg: string, upstream?: string): void {
  const log = r.w.errorLog;
  if (!log.enabled(level)) return;
  log.log(level, r.phase === CTX.log ? msg + LOGGING : msg, r.serial, context(r, upstream));
}

/** `, client: ..., server: ..., request: "...", host: "..."`; never throws (a gone socket). */
function context(r: Req, upstream: string | undefined): string {
  // The main request's line as received, whatever a rewrite or ngx.req.set_method changed since.
  const m = r.main;
  const line = m.ex.requestLine ?? `${m.ex.method} ${m.ex.url} HTTP/${m.ex.httpVersion}`;
  try {
    const h = m.inHeaders;
    return requestContext({
      client: m.remoteAddr,
      server: serverName(r.server),
      request: line,
      subrequest: r.parent !== null ? r.uri : null,
      upstream,
      host: h.host,
      referrer: h.referer,
    });
  } catch {
    return `, request: "${line}"`;
  }
}

/**
 * A line of a handler's run: the request's context, or outside a request the run's fake
 * connection's `*N` and context (`, context: ngx.timer, client: ..., server: ...`).
 */
export function logRun(c: Call, level: LogLevel, msg: string): void {
  if (c.req !== null) { logReq(c.req, level, msg); return; }
  const o = c.origin;
  c.w.errorLog.log(level, msg, o?.connection, o !== null ? o.tail : c.phase === CTX.timer ? ', context: ngx.timer' : undefined);
}

/** `, client: A, server: LISTEN` of the run `c` (what a timer it makes logs), '' where there is none. */
export function peerOf(c: Call): string {
  if (c.req === null) return c.origin?.peer ?? '';
  const m = c.req.main;
  return peerContext(m.remoteAddr, m.ex.listen ?? bindName({ host: m.ex.localAddress, port: m.ex.localPort }));
}
