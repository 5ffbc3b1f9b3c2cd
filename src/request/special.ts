// nginx's special responses: an error page, a redirect, 304, 204 by ngx.exit replace whatever
// a handler buffered, with nginx's own page, length and headers.

import { errorPage, hasPage, wireStatus } from '../http/native-pages.js';
import { software } from '../http/software.js';
import { headersOf } from './headers.js';
import { ownName } from './head-list.js';
import type { Req } from './req.js';

/**
 * Replaces any buffered output by nginx's page for `status` (a "special response"). A
 * subrequest gets the status and headers only, and its capture says truncated (as OpenResty's).
 */
export function special(r: Req, status: number): void {
  specialAnswer(r, status);
  r.out = null;
  r.outLen = 0;
  r.page = null;
  // 494-497 go out (and are logged) as 400 with their own page, as nginx's err_status.
  r.status = wireStatus(status);
  r.lengthless = false; // nginx's own answer, with its length
  const h = headersOf(r);
  h.delete('content-length');
  h.lengthCleared = false; // the page has its own length, whatever the handler cleared
  if (status >= 300) {
    dropValidators(r);
    if (r.parent !== null) {
      if (status !== 304) r.truncated = true;
    } else if (hasPage(status)) {
      h.set('Content-Type', 'text/html');
      r.page = errorPage(status, ownName(r) ?? software());
    } else {
      r.headerOnly = true;
      h.delete('content-type');
      h.set('Content-Length', '0');
    }
  }
  r.headerSent = true;
}

/** nginx's not-modified filter's 412 ends the request as an error once its page went: the
 *  connection closes after it, its head still saying keep-alive (observed on nginx 1.22). */
export function failedPrecondition(r: Req): void {
  if (r.parent === null) r.ex.closeAfter?.();
}

/** The exchange learns the answer is a special response (ex.special); a subrequest's is not the connection's. */
export function specialAnswer(r: Req, status: number): void {
  if (r.parent === null) r.ex.special?.(status);
}

/**
 * nginx's special response (an error page, a redirect, 304, 204 by ngx.exit) drops the
 * validators, Accept-Ranges and Content-Length a handler set: they described a body that is not
 * sent (observed on nginx 1.22 + lua; other headers stay). Filters after it (add_header,
 * header_filter) may add them.
 */
export function dropValidators(r: Req): void {
  const h = r.headers;
  if (h === null) return;
  h.delete('content-length');
  h.delete('etag');
  h.delete('last-modified');
  h.delete('accept-ranges');
}
