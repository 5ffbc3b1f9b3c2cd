// What ngx.say / print / flush / eof / send_headers return: [true, null], or [null, err] with
// lua-nginx-module's words, so a streaming handler learns that the client went away (its loop can
// stop) or that the body is over. Checked before the output work, as lua-nginx-module checks.

import { logReq } from './report.js';
import type { Req } from './req.js';

export type OutResult = readonly [true, null] | readonly [null, string];

/** The one success value: say is on the hot path, so no array per call. */
export const SENT: readonly [true, null] = Object.freeze([true, null] as const);

export const OUTPUT_ERROR = 'nginx output filter error';
export const SEEN_EOF = 'seen eof';
export const RAW_TAKEN = 'raw request socket acquired';
export const HEADER_ONLY = 'header only';
export const BUFFERING = 'buffering';

export function failed(err: string): OutResult {
  return [null, err];
}

/**
 * The output's failure, sticky: a filter that failed, or the connection gone (the client closed
 * or reset it). The first time tresty sees the connection gone it logs nginx's line for the write
 * that fails then (`writev() failed (32: Broken pipe)`, `SSL_write()` over TLS, at info), once;
 * `(104: Connection reset by peer)` when the client reset the connection (the kernel's error
 * for a write after a reset; after a FIN and the reset that answers a write, EPIPE).
 */
export function outError(r: Req): string | null {
  if (r.outErr !== null) return r.outErr;
  // A cut of tresty's own (a failed header_filter) is no client's doing: nginx's say returns 1
  // after it (observed); a failed body_filter set outErr already.
  if (r.parent !== null || r.cut || !r.ex.aborted) return null;
  r.outErr = OUTPUT_ERROR;
  // HTTP/2: nginx's lines for a reset stream came with the reset (h2-exchange.ts), none per write
  if (r.ex.httpVersion !== '2.0') logReq(r, 'info', `${r.ex.scheme === 'https' ? 'SSL_write' : 'writev'}() failed (${r.ex.reset === true ? '104: Connection reset by peer' : '32: Broken pipe'})`);
  return OUTPUT_ERROR;
}

/** Why ngx.say / ngx.print / ngx.flush would send nothing now, or null. */
export function refusal(r: Req): string | null {
  if (r.raw !== null) return RAW_TAKEN;
  // lua-nginx-module's order: a HEAD whose head went out is "header only" before "seen eof".
  if (r.method === 'HEAD' && r.headerSent && r.parent === null) return HEADER_ONLY;
  if (r.eofCalled) return SEEN_EOF;
  // After a body_filter throw the chunks still go through the filter: the caller says the error after.
  if (r.filterBroke) return null;
  return outError(r);
}

/** After the output work: the failure it met, or SENT. */
export function outcome(r: Req): OutResult {
  const e = outError(r);
  return e === null ? SENT : failed(e);
}
