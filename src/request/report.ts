// Error log lines about a request, in nginx's shape: `*N message, client: ..., server: ...,
// request: "...", host: "..."` (src/log/context.ts). A handler's throw is worded in failure.ts.

import type { LogLevel } from '../config/types.js';
import { requestContext } from '../log/index.js';
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
  const line = m.ex.requestLine ?? `${m.ex.method} ${m.requestUri} HTTP/${m.ex.httpVersion}`;
  try {
    const h = m.inHeaders;
    return requestContext({
      client: m.remoteAddr,
      server: r.server.serverNames[0]?.value ?? '',
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
