// A stored answer as the response (HIT, STALE, UPDATING, REVALIDATED): its status and headers
// through the location's proxy rules (proxy_hide_header, proxy_redirect, proxy_cookie_*), then
// its body through the filters, with back-pressure.

import { type Entry, restOf } from '../cache/entry.js';
import { OK } from '../request/codes.js';
import { emit, queueFlush } from '../request/output.js';
import { logReq } from '../request/report.js';
import type { Req } from '../request/req.js';
import { upstreamVarsOf } from '../request/upstream.js';
import { type AnswerPlan, copyHeaders } from './response.js';

/** Headers never stored: the framing of one transfer, not the answer's. A Content-Length is
 *  kept: a HIT has one when the answer had one (nginx's HIT of a chunked answer is chunked). */
const NOT_STORED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'te', 'trailer', 'upgrade']);

export function storedHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (!NOT_STORED.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

export function serveEntry(r: Req, a: AnswerPlan, e: Entry): Promise<number> | number {
  r.status = e.meta.status;
  r.proxied = true;
  upstreamVarsOf(r).cacheable = true;
  copyHeaders(r, e.meta.headers, a.hide, a.redirect, a.cookie);
  r.headerSent = true;
  if (r.method === 'HEAD' || e.bodySize === 0) return OK;
  emit(r, e.head);
  if (e.head.length >= e.bodySize) return OK;
  return rest(r, e);
}

async function rest(r: Req, e: Entry): Promise<number> {
  try {
    for await (const c of restOf(e)) {
      emit(r, c);
      const w = queueFlush(r, false);
      if (w) await w;
      if (r.cut) break;
    }
  } catch (err) {
    // Swept while read: the client gets a cut answer (the status line went already).
    logReq(r, 'error', `cache file "${e.path}" read failed (${err instanceof Error ? err.message : String(err)})`);
  }
  return OK;
}
