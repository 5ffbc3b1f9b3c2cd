// The upstream's answer as the client gets it: hop-by-hop headers dropped, the headers nginx
// hides by default (Date, Server, X-Pad, X-Accel-*) hidden unless proxy_pass_header names them,
// proxy_hide_header on top, and Location / Refresh rewritten by proxy_redirect; then its body,
// streamed through the filters (streamAnswer).

import type { ProxyConf, ProxyPass } from '../config/types.js';
import { ERROR, OK } from '../request/codes.js';
import { emit, queueFlush } from '../request/output.js';
import { absoluteUrl } from '../request/absolute-url.js';
import { headersOf } from '../request/headers.js';
import { logReq } from '../request/report.js';
import type { Req } from '../request/req.js';
import type { Exchange } from './exchange.js';
import type { CookieRewrite } from './cookies.js';
import type { ResponseHead } from './parser.js';
import { forceRanges, slicer } from './force-ranges.js';

/** What streamAnswer needs of the proxy's plan for a location. */
export interface AnswerPlan {
  readonly conf: ProxyConf;
  readonly hide: ReadonlySet<string>;
  readonly redirect: Redirect | null;
  readonly cookie: CookieRewrite | null;
  /** proxy_cache's copy of the answer (cache-flow.ts), or null when the location has no cache. */
  readonly tap?: ((r: Req, head: ResponseHead) => BodyTap | null) | null;
}

/** Where a copy of the answer's body goes as it streams (a new cache entry). */
export interface BodyTap {
  chunk(c: Buffer): void;
  end(): void;
  fail(): void;
}

const HOP = ['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection'];
const HIDDEN = ['date', 'server', 'x-pad', 'x-accel-expires', 'x-accel-redirect', 'x-accel-limit-rate', 'x-accel-buffering', 'x-accel-charset'];

export function hiddenHeaders(conf: ProxyConf): ReadonlySet<string> {
  const hide = new Set([...HIDDEN.filter((h) => !conf.passHeaders.includes(h)), ...conf.hideHeaders]);
  for (const h of HOP) hide.add(h);
  return hide;
}

export type Redirect = (value: string) => string;

/**
 * proxy_redirect as one function, or null when nothing is rewritten. `default` maps the
 * proxy_pass URL (with its URI part, or with `/`) to the location's prefix (or `/`).
 */
export function redirectRule(conf: ProxyConf, pass: ProxyPass | null): Redirect | null {
  const pairs: Array<[string, string]> = [];
  for (const rule of conf.redirects) {
    if (rule === 'off') return null;
    if (rule === 'default') {
      if (pass === null || pass.dynamic) continue;
      const base = `${pass.scheme}://${pass.proxyHost}`;
      pairs.push(pass.uri !== null ? [base + pass.uri, pass.prefix] : [`${base}/`, '/']);
    } else {
      pairs.push([rule.from, rule.to]);
    }
  }
  if (pairs.length === 0) return null;
  return (v) => {
    for (const [from, to] of pairs) if (v.startsWith(from)) return to + v.slice(from.length);
    return v;
  };
}

/** Copies the answer's headers to the response; the first of each name replaces a handler's. */
export function copyHeaders(r: Req, raw: readonly string[], hide: ReadonlySet<string>, redirect: Redirect | null,
  cookie: CookieRewrite | null = null): void {
  // With no header set before (the common case), a name already in the store came from this
  // answer: no set of the names seen is needed to tell a repeat from a handler's header.
  const fresh = r.headers === null || r.headers.size === 0;
  const h = headersOf(r);
  let seen: Set<string> | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const key = name.toLowerCase();
    if (hide.has(key)) continue;
    let value = raw[i + 1]!;
    if (redirect !== null && (key === 'location' || key === 'refresh')) {
      const was = value;
      value = redirectValue(key, value, redirect);
      // nginx's header filter makes a Location absolute (absolute_redirect) only when the
      // upstream's own value was absolute: a relative one from the upstream passes as it came.
      if (key === 'location' && !was.startsWith('/') && value.startsWith('/')) value = absoluteUrl(r, value);
    }
    if (cookie !== null && key === 'set-cookie') value = cookie(r, value);
    if (fresh) {
      if (h.has(key)) h.add(name, value);
      else h.set(name, value);
    } else if (seen?.has(key)) h.add(name, value);
    else {
      h.set(name, value);
      (seen ??= new Set()).add(key);
    }
  }
}

function redirectValue(key: string, v: string, redirect: Redirect): string {
  if (key === 'location') return redirect(v);
  // Refresh: `5; url=http://...`
  const m = /^(.*?url=)(.*)$/i.exec(v);
  return m ? m[1] + redirect(m[2]) : v;
}

/**
 * The kept answer becomes the response: status, headers, then the body through the filters.
 * proxy_buffering on gathers up to proxy_buffers bytes per write; off (or `X-Accel-Buffering:
 * no`) passes each read on at once. Either way a slow client pauses the upstream.
 */
export function streamAnswer(r: Req, p: AnswerPlan, ex: Exchange, aborted: { now: boolean }): Promise<number> | number {
  const head = ex.head!;
  r.status = head.status;
  r.proxied = true;
  copyHeaders(r, head.raw, p.hide, p.redirect, p.cookie);
  // A HEAD's answer without a length (chunked upstream) has none: the empty body tresty got is
  // not its length (was `Content-Length: 0`; nginx sends none).
  if (r.method === 'HEAD' && !(r.headers?.has('content-length') ?? false)) r.lengthless = true;
  const range = p.conf.forceRanges ? forceRanges(r, head) : null;
  if (range === 416) {
    // nginx's 416 page instead; the answer is dropped (its connection closed)
    ex.discard();
    return 416;
  }
  const cut = range === null ? null : slicer(range[0], range[1]);
  r.headerSent = true;
  const tap = p.tap ? p.tap(r, head) : null;
  if (ex.whole) {
    // The whole answer came with its head: no waiting, no promise.
    for (const c of ex.takeHeld()) {
      tap?.chunk(c);
      emit(r, cut === null ? c : cut(c));
    }
    tap?.end();
    return OK;
  }
  const buffering = p.conf.buffering && !noBuffering(head.raw);
  const limit = p.conf.buffers;
  // Without filters, to an exchange that copies what it is given, a chunk written at once is
  // not kept; a chunk gathered (proxy_buffering), queued behind a wait or filtered is.
  const direct = r.pipe.headerFilter === null && r.pipe.bodyFilter === null && r.ex.copiesChunks === true;
  const pace = buffering && p.conf.limitRate > 0 ? readPace(p.conf.limitRate) : null;
  return new Promise<number>((resolve) => {
    void ex.pipe({
      chunk(whole, keep) {
        tap?.chunk(whole);
        const c = cut === null ? whole : cut(whole);
        const now = !buffering || r.outLen + c.length >= limit;
        emit(r, keep !== null && !(now && direct && r.pending === null) ? keep(c) : c);
        let w: Promise<void> | void | null = null;
        if (now) w = queueFlush(r, false);
        w ||= r.pending;
        const slow = pace?.(whole.length);
        if (slow === undefined) return w ?? undefined;
        return w ? Promise.all([w, slow]).then(() => undefined) : slow;
      },
      end() {
        tap?.end();
        // the last read's wait too: the answer takes as long as its bytes at the rate
        const last = pace?.(0);
        if (last) void last.then(() => resolve(OK));
        else resolve(OK);
      },
      fail(f) {
        tap?.fail();
        // the client went: 499, or once the head went, a cut answer that keeps its status (nginx
        // terminates the request; an ngx.exit(499)'s error line is no proxy's)
        if (aborted.now) { resolve(r.headerWritten ? ERROR : 499); return; }
        logReq(r, 'error', f.message);
        // The status line went (or goes) out: the client sees a cut answer, as from nginx.
        const w = queueFlush(r, false);
        if (w) void w.then(() => resolve(ERROR), () => resolve(ERROR));
        else resolve(ERROR);
      },
    });
  });
}

/**
 * proxy_limit_rate: after each read, how long reading from the upstream waits (the connection is
 * paused meanwhile, as by a slow client) so that N bytes take N / rate seconds from the first
 * read on; undefined when no wait is due. nginx 1.22 reads a 200 KB answer at 100k in about 2 s.
 */
function readPace(rate: number): (n: number) => Promise<void> | undefined {
  const t0 = performance.now();
  let got = 0;
  let last: Promise<void> | undefined;
  return (n) => {
    got += n;
    const wait = t0 + (got * 1000) / rate - performance.now();
    if (wait < 1) return n === 0 ? last : undefined;
    last = new Promise((r) => setTimeout(r, wait));
    return last;
  };
}

function noBuffering(raw: readonly string[]): boolean {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.length === 17 && raw[i]!.toLowerCase() === 'x-accel-buffering') return raw[i + 1]!.toLowerCase() === 'no';
  }
  return false;
}
