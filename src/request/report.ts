// Error log lines about a request, in nginx's shape: `*N message, client: ..., server: ...,
// request: "...", host: "..."` (src/log/context.ts); and the one for a handler that threw.

import { fileURLToPath } from 'node:url';
import type { HandlerSpec, LogLevel } from '../config/types.js';
import { requestContext } from '../log/index.js';
import type { Req } from './req.js';

/** What an error line needs to know of a loaded handler. */
export interface HandlerInfo {
  /** `content_by_js` etc. */
  readonly label: string;
  /** The file a stack frame must name to be the handler's own (conf file or handler file). */
  readonly file: string;
  readonly spec: HandlerSpec;
}

/** `upstream` (`http://PEER/URI`) goes in the context's place for it, as nginx orders it. */
export function logReq(r: Req, level: LogLevel, msg: string, upstream?: string): void {
  const log = r.w.errorLog;
  if (!log.enabled(level)) return;
  log.log(level, msg, r.serial, context(r, upstream));
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

/** `failed to run content_by_js*: nginx.conf:14: Error: boom` + the stack. */
export function handlerFailure(h: HandlerInfo, e: unknown): string {
  const stack = e instanceof Error ? e.stack ?? String(e) : `${String(e)}`;
  // Not thrown from the handler's own file (e.g. a rack middleware in another module): where it was thrown.
  const at = frameIn(stack, h.file) ?? (h.spec.source === 'block' ? `${h.spec.ref.file}:${h.spec.codeLine ?? h.spec.ref.line}` : firstUserFrame(stack) ?? h.file);
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const trace = e instanceof Error && e.stack ? `\nstack traceback:\n${userFrames(e.stack)}` : '';
  return `failed to run ${h.label}*: ${at}: ${text}${trace}`;
}

/** The first `file:line` of the stack that is in `file`. */
function frameIn(stack: string, file: string): string | undefined {
  const i = stack.indexOf(`${file}:`);
  if (i < 0) return undefined;
  const m = /^:(\d+)/.exec(stack.slice(i + file.length));
  return m ? `${file}:${m[1]}` : undefined;
}

/** tresty's own compiled sources: their frames are noise in a handler's trace. */
const OWN = fileURLToPath(new URL('..', import.meta.url));

/** `file:line` of the first stack frame outside tresty and Node. */
function firstUserFrame(stack: string): string | undefined {
  for (const l of stack.split('\n')) {
    if (!/^\s+at /.test(l) || l.includes(OWN) || l.includes('node:')) continue;
    const m = /\(?(?:file:\/\/)?([^()\s]+):(\d+):\d+\)?$/.exec(l);
    if (m) return `${m[1]}:${m[2]}`;
  }
  return undefined;
}

function userFrames(stack: string): string {
  const lines = stack.split('\n');
  const frames = lines.filter((l) => /^\s+at /.test(l) && !l.includes(OWN) && !l.includes('node:internal'));
  return frames.join('\n');
}
