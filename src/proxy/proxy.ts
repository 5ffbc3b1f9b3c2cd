// proxy_pass as the content step of a location. Rewrite and access have run; this step picks a
// server (the upstream's policy, or its balancer_by_js), sends the request, and either keeps the
// answer (its status and headers become the response, its body streams through header_filter
// and body_filter with back-pressure) or moves to the next server as proxy_next_upstream allows.
// Each try is recorded for the $upstream_* variables; failures are logged as nginx words them.
// One try on the wire is attempt.ts's; the kept answer's way to the client is response.ts's.

import net from 'node:net';
import { appendBodyFile, closeBodyFile, openBodyFile } from '../api/req-body-file.js';
import { isTrestyError } from '../errors.js';
import type { LocationConf, ProxyConf, ProxyPass } from '../config/types.js';
import { NEXT } from '../config/types-gateway.js';
import type { Step } from '../request/pipe.js';
import { logReq } from '../request/report.js';
import type { Req } from '../request/req.js';
import { upstreamVarsOf, type UpstreamTry } from '../request/upstream.js';
import { attempt, NON_IDEMPOTENT, since, type Timeouts } from './attempt.js';
import type { BalancerTry } from './balancer-state.js';
import { type BodySource, BodyTooLarge, bufferBody, drainBody, fileBody, MemoryBody, streamBody } from './body.js';
import type { Exchange } from './exchange.js';
import { choose, Peer, release, Selection } from './peers.js';
import { type Compile, type HeadPlan, planHead, requestHead, type Template, upstreamUri } from './request.js';
import { hiddenHeaders, type Redirect, redirectRule, streamAnswer } from './response.js';
import { type CookieRewrite, cookieRewrite } from './cookies.js';
import { dynamicTarget, sslOptions, targetOf } from './target.js';
import type { Target } from './conn.js';
import { localAddress } from '../config/directives-proxy.js';
import type { UpstreamRt, Upstreams } from './upstreams.js';
import { resolveHost } from '../request/resolver.js';
import type { CacheZone } from '../cache/zone.js';
import { cached, type CachePlan, cachePlan, cacheRefuses, cacheTap } from './cache-flow.js';
import { bodyOf } from '../request/body-of.js';

export interface ProxyDeps {
  readonly compile: Compile;
  readonly upstreams: Upstreams;
  /** Runs the upstream's balancer_by_js for one try; false when the handler failed. */
  readonly balancer: (r: Req, rt: UpstreamRt, t: BalancerTry) => Promise<boolean>;
  /** nginx's client_body_temp folder. */
  readonly tempDir: string;
  /** The worker's proxy_cache_path zone of that name (the conf checked it exists). */
  readonly cacheZone?: (name: string) => CacheZone;
}

interface Plan {
  readonly conf: ProxyConf;
  readonly pass: ProxyPass;
  readonly head: HeadPlan;
  readonly hide: ReadonlySet<string>;
  readonly redirect: Redirect | null;
  readonly cookie: CookieRewrite | null;
  /** proxy_set_body: the body sent instead of the client's, or null. */
  readonly setBody: Template | null;
  readonly url: Template | null;
  readonly rt: UpstreamRt | null;
  readonly tls: import('node:tls').ConnectionOptions;
  readonly sslName: Template | null;
  /** proxy_bind's address, or null. */
  readonly bind: Template | null;
  readonly deps: ProxyDeps;
  readonly cache: CachePlan | null;
  readonly tap: typeof cacheTap | null;
  /** An answer the cache replaces (cache-flow.ts's cacheRefuses), null without proxy_cache. */
  readonly refuse: typeof cacheRefuses | null;
}

/** The target bound to proxy_bind's `addr` as this request computes it: none when it is empty,
 *  nor when it is no address (nginx's error line; the request goes on unbound). */
function bound(r: Req, target: Target, addr: string): Target {
  if (addr === '') return target;
  const la = localAddress(addr);
  if (la === null) {
    logReq(r, 'error', `invalid local address "${addr}"`);
    return target;
  }
  return { ...target, local: { ...la, text: addr } };
}

const STATUS_NEXT: Record<number, number> = {
  500: NEXT.http_500, 502: NEXT.http_502, 503: NEXT.http_503, 504: NEXT.http_504,
  403: NEXT.http_403, 404: NEXT.http_404, 429: NEXT.http_429,
};

export async function proxyStep(loc: LocationConf, deps: ProxyDeps): Promise<Step> {
  const conf = loc.proxy;
  const pass = conf.pass!;
  let rt: UpstreamRt | null = null;
  if (!pass.dynamic) {
    rt = (pass.port === (pass.scheme === 'https' ? 443 : 80) && !pass.proxyHost.includes(':') ? deps.upstreams.named(pass.host) : undefined)
      ?? await deps.upstreams.fixed(pass.host, pass.port, pass.ref, pass.proxyHost);
  }
  const plan: Plan = {
    conf, pass, deps, rt,
    head: planHead(conf, deps.compile),
    hide: hiddenHeaders(conf),
    redirect: redirectRule(conf, pass),
    cookie: cookieRewrite(conf, deps.compile),
    setBody: conf.setBody === null ? null : deps.compile(conf.setBody),
    url: pass.dynamic ? deps.compile(pass.url) : null,
    tls: sslOptions(conf.ssl, pass.ref, pass.scheme === 'https' || pass.dynamic),
    sslName: conf.ssl.name === null ? null : deps.compile(conf.ssl.name),
    bind: conf.bind === null ? null : deps.compile(conf.bind.addr),
    cache: conf.cache !== null && deps.cacheZone ? cachePlan(conf, deps.cacheZone(conf.cache), deps.compile) : null,
    tap: conf.cache !== null ? cacheTap : null,
    refuse: conf.cache !== null ? cacheRefuses : null,
  };
  return (r) => {
    // run() is not async: a throw in it still reaches the phase runner as a rejection (a 500).
    try {
      return run(r, plan);
    } catch (e) {
      return Promise.reject(e);
    }
  };
}

/**
 * Not async itself: a request without a body (most) goes straight to tries(), one promise less
 * (and the microtask turns its settling takes) per proxied request.
 */
function run(r: Req, p: Plan): Promise<number> | number {
  const st = upstreamVarsOf(r);
  let rt = p.rt;
  let scheme = p.pass.scheme;
  let uri: string;
  if (p.url !== null) {
    const d = dynamicTarget(p.url(r), p.deps.upstreams);
    if (typeof d === 'string') {
      logReq(r, 'error', d);
      return 500;
    }
    ({ rt, scheme } = d);
    st.proxyHost = d.proxyHost;
    st.proxyPort = String(d.port);
    uri = d.uri ?? upstreamUri(r, { ...p.pass, uri: null });
  } else {
    st.proxyHost = p.pass.proxyHost;
    st.proxyPort = String(p.pass.port);
    uri = upstreamUri(r, p.pass);
  }
  if (p.cache !== null) return cached(r, p.cache, p, (extra) => upstream(r, p, rt!, scheme, uri, extra));
  return upstream(r, p, rt!, scheme, uri, '');
}

function upstream(r: Req, p: Plan, rt: UpstreamRt, scheme: 'http' | 'https', uri: string, extra: string): Promise<number> | number {
  // proxy_set_body: its text goes with its Content-Length (0 too), whatever the client sent.
  if (p.setBody !== null) return tries(r, p, rt, scheme, uri, new MemoryBody(Buffer.from(p.setBody(r))), extra);
  if (!hasBody(r, p)) return tries(r, p, rt, scheme, uri, null, extra);
  return withBody(r, p, rt, scheme, uri, extra);
}

async function withBody(r: Req, p: Plan, rt: UpstreamRt, scheme: 'http' | 'https', uri: string, extra: string): Promise<number> {
  let body: BodySource | null;
  try {
    body = await requestBody(r, p);
  } catch (e) {
    return bodyFailed(r, e);
  }
  try {
    return await tries(r, p, rt, scheme, uri, body, extra);
  } finally {
    body?.close();
  }
}

/** Whether the request has a body to send (checked without waiting: most requests have none). */
function hasBody(r: Req, p: Plan): boolean {
  if (!p.conf.passRequestBody) return false;
  if (r.bodyFile !== null) return true;
  if (r.body !== undefined) return r.body !== null || r.inHeaders['content-length'] === '0';
  const h = r.ex.headers;
  return h['content-length'] !== undefined || h['transfer-encoding'] !== undefined || r.inHeaders['content-length'] === '0';
}

/** The request body as it will be sent (null: none), by proxy_pass_request_body and _buffering. */
async function requestBody(r: Req, p: Plan): Promise<BodySource | null> {
  // A body in a file (read past client_body_buffer_size, built by init_body, set_body_file).
  if (r.bodyFile !== null) return fileBody(r.bodyFile.path, r.bodyFile.size);
  if (r.body !== undefined) {
    if (r.body !== null) return new MemoryBody(r.body);
    // An empty body a handler set (or a client's Content-Length: 0) goes as Content-Length: 0, as
    // nginx's request_body of no bytes does; a request without one sends none.
    return r.inHeaders['content-length'] === '0' ? new MemoryBody(Buffer.alloc(0)) : null;
  }
  // A Content-Length: 0 the handler set on a request without a body: sent as such, as nginx does
  if (r.inHeaders['content-length'] === '0') return new MemoryBody(Buffer.alloc(0));
  const h = r.ex.headers;
  const cl = h['content-length'];
  const chunked = h['transfer-encoding'] !== undefined;
  const length = chunked ? -1 : Number(cl);
  if (length === 0) return new MemoryBody(Buffer.alloc(0));
  const limit = r.loc.clientMaxBodySize;
  // A chunked body to an HTTP/1.0 upstream needs a length: it is read whole first.
  if (p.conf.requestBuffering || (length < 0 && p.head.version === '1.0')) {
    if (p.conf.clientBodyInFileOnly !== 'off') return spoolBody(r, limit, p.conf.clientBodyInFileOnly === 'on');
    r.body = null; // the body is the proxy's now
    const b = await bufferBody(bodyOf(r), limit, p.conf.clientBodyBufferSize, p.conf.clientBodyTempPath ?? p.deps.tempDir);
    if (b instanceof MemoryBody) r.body = b.data;
    return b;
  }
  r.body = null;
  return streamBody(bodyOf(r), limit, length);
}

/**
 * client_body_in_file_only with the body unread: nginx's own reading puts it in a named temp file
 * under client_body_temp_path (its notice line, $request_body_file, get_body_file), kept after the
 * request with `on`, removed after the log phase with `clean` (observed on nginx 1.22).
 */
async function spoolBody(r: Req, limit: number, keep: boolean): Promise<BodySource> {
  const f = openBodyFile(r, null, keep);
  r.body = null;
  r.bodyFile = f;
  try {
    await drainBody(bodyOf(r), limit, (c) => appendBodyFile(f, c));
  } finally {
    closeBodyFile(f);
  }
  return fileBody(f.path, f.size);
}

function bodyFailed(r: Req, e: unknown): number {
  if (e instanceof BodyTooLarge) {
    logReq(r, 'error', `client intended to send too large body: ${e.size}+ bytes`);
    return 413;
  }
  if (isTrestyError(e) && e.code === 'TRESTY_ERR_BODY_FILE') {
    logReq(r, 'error', e.message);
    return 500;
  }
  logReq(r, 'info', `client prematurely closed connection while reading client request body (${e instanceof Error ? e.message : String(e)})`);
  return 499;
}

interface TryState {
  tries: number;
  readonly started: number;
  lastFailure: [string, number?] | null;
  timeouts: Timeouts;
}

async function tries(r: Req, p: Plan, rt: UpstreamRt, scheme: 'http' | 'https', uri: string, body: BodySource | null,
  extra: string): Promise<number> {
  const conf = p.conf;
  const st = upstreamVarsOf(r);
  // With proxy_cache a HEAD goes upstream as GET, so its answer can be stored whole (nginx's
  // proxy_cache_convert_head); the client still gets no body.
  const method = conf.method ?? (p.cache !== null && r.method === 'HEAD' ? 'GET' : r.method);
  let head = requestHead(r, p.head, method, uri, body === null ? null : body.length >= 0 ? body.length : p.head.version === '1.1' ? -1 : null);
  if (extra !== '') head = head.slice(0, -2) + extra + '\r\n'; // a revalidation's conditions
  const sel = new Selection(rt.set, rt.hashKey === null ? (rt.conf?.policy === 'ip_hash' ? r.remoteAddr : '') : rt.hashKey(r));
  const balancer = rt.conf?.balancer ? rt : null;
  const s: TryState = {
    tries: Math.max(1, rt.set.count),
    started: performance.now(),
    lastFailure: null,
    timeouts: { connect: conf.connectTimeout, send: conf.sendTimeout, read: conf.readTimeout },
  };
  if (conf.nextUpstreamTries > 0 && s.tries > conf.nextUpstreamTries) s.tries = conf.nextUpstreamTries;
  const aborted = { now: false, current: null as Exchange | null };
  // A subrequest's try does not watch the client (ngx.location.capture): nginx's connection
  // reports to the main request, whose handler does not read, and the capture gets the answer.
  if (!conf.ignoreClientAbort && r.parent === null) {
    r.ex.onAbort(() => {
      aborted.now = true;
      // nginx's line for it, at the step the upstream's connection was at (observed waiting for
      // the header: "sending request", nginx's action until a header byte comes); once the answer
      // streams, nginx's writer notices first and logs its own line (the front's, as for any answer)
      const ex = aborted.current;
      if (ex === null || ex.head === null) {
        const at = ex === null ? 'connecting to upstream' : 'sending request to upstream';
        const peer = st.tries.length > 0 ? st.tries[st.tries.length - 1]!.addr : rt.name;
        logReq(r, 'info', `epoll_wait() reported that client prematurely closed connection, so upstream connection is closed too while ${at}`, `${scheme}://${peer}${uri}`);
      }
      aborted.current?.onFail('client', 'client prematurely closed connection');
      aborted.current?.discard();
    });
  }
  const sslName = scheme === 'https' ? (p.sslName ? p.sslName(r) : st.proxyHost).replace(/:\d+$/, '') : '';
  // An answer no rule could refuse (its status is not in proxy_next_upstream, not intercepted)
  // and not known to be small is kept as its head arrives: its body is not held meanwhile.
  const keepNow = (ex: Exchange): void => {
    const h = ex.head!;
    if (aborted.now || (h.contentLength >= 0 && h.contentLength <= HOLD_SMALL)) return;
    if (conf.interceptErrors && h.status >= 300) return;
    if (p.refuse !== null && p.refuse(r, h.status)) return;
    const mask = STATUS_NEXT[h.status];
    if (mask !== undefined && (conf.nextUpstream & mask) !== 0) return;
    // This runs inside the socket's read callback: a throw goes to the request, not the loop.
    try {
      ex.streamed = streamAnswer(r, p, ex, aborted);
    } catch (e) {
      const failed = Promise.reject(e);
      failed.catch(() => undefined); // handled where tries() awaits it (or dropped with the try)
      ex.streamed = failed;
    }
  };

  for (;;) {
    let peer: Peer | null;
    if (balancer !== null) {
      const t: BalancerTry = {
        peer: null, moreTries: 0, lastFailure: s.lastFailure, timeouts: null,
        maxTries: conf.nextUpstreamTries, triesSoFar: st.tries.length + s.tries,
      };
      if (!await p.deps.balancer(r, balancer, t)) return 500;
      s.tries += t.moreTries;
      if (t.timeouts) {
        const o = t.timeouts;
        s.timeouts = { connect: o.connect ?? s.timeouts.connect, send: o.send ?? s.timeouts.send, read: o.read ?? s.timeouts.read };
      }
      if (t.peer === null && rt.set.peers.length === 0) {
        logReq(r, 'error', `balancer_by_js set no peer for upstream "${rt.name}" (tresty/balancer set_current_peer)`);
        return 502;
      }
      peer = t.peer ? adhocPeer(t.peer.host, t.peer.port) : choose(sel, rt.conf!.policy, rt.ring, Date.now());
    } else {
      peer = choose(sel, rt.conf?.policy ?? 'round_robin', rt.ring, Date.now());
    }
    if (peer === null) {
      st.tries.push({ addr: rt.name, status: 502, connect: -1, header: -1, response: 0, bytesSent: 0, bytesReceived: 0 });
      logReq(r, 'error', 'no live upstreams while connecting to upstream', `${scheme}://${rt.name}${uri}`);
      return 502;
    }
    const t: UpstreamTry = { addr: peer.name, status: 0, connect: -1, header: -1, response: -1, bytesSent: 0, bytesReceived: 0 };
    st.tries.push(t);
    let target = targetOf(peer, scheme, p.tls, conf.ssl, sslName);
    // A name in a proxy_pass with variables: through the `resolver` when the location has one.
    if (r.loc.resolver && !target.host.startsWith('unix:') && net.isIP(target.host) === 0) {
      const a = await resolveHost(r.loc.resolver, r.loc.resolverTimeout, target.host, r.w.errorLog);
      if (typeof a !== 'string') {
        logReq(r, 'error', a.error);
        st.tries.pop();
        releasePeer(rt, peer, false);
        return 502;
      }
      target = { ...target, host: a };
    }
    if (p.bind !== null) target = bound(r, target, p.bind(r));
    const got = await attempt(rt, target, head, method, body, conf.bufferSize, t, s.timeouts, aborted, keepNow);
    if (aborted.now) {
      releasePeer(rt, peer, false);
      got.ex?.discard();
      return 499;
    }
    // An answer kept as its head came is the client's from then on: a failure later in its body
    // cuts that response (as nginx does once the header went); it is no 502 and no next try.
    if (got.ex !== null && got.ex.streamed !== null) {
      st.headers = got.ex.head!.raw;
      return kept(rt, peer, t, got.t0, got.ex, got.ex.streamed);
    }
    if (got.ex === null || got.ex.failure !== null) {
      const f = got.ex?.failure ?? got.failure!;
      if (f.kind === 'client') {
        releasePeer(rt, peer, false);
        return bodyFailed(r, got.clientError);
      }
      const where = `${scheme}://${peer.name}${uri}`;
      if (f.kind === 'bind') {
        // proxy_bind's address could not be bound: nginx's crit line and a 500, no next server
        logReq(r, 'crit', f.message, where);
        t.status = 500;
        releasePeer(rt, peer, false);
        return 500;
      }
      logReq(r, 'error', f.message, where);
      t.status = f.kind === 'timeout' ? 504 : 502;
      if (releasePeer(rt, peer, true)) logReq(r, 'warn', `upstream server temporarily disabled while ${f.message.replace(/^.* while /, '')}`, where);
      s.tries--;
      s.lastFailure = ['failed', t.status];
      let mask = NEXT[f.kind];
      if (got.sent && NON_IDEMPOTENT.has(method)) mask |= NEXT.non_idempotent;
      if (canRetry(conf, s, mask, got.sent, body, 0)) continue;
      return t.status;
    }
    const ex = got.ex;
    const status = ex.head!.status;
    t.status = status;
    st.headers = ex.head!.raw;
    t.header = since(got.t0, ex.headAt);
    const mask = STATUS_NEXT[status];
    if (mask !== undefined && (conf.nextUpstream & mask) !== 0) {
      const m = got.sent && NON_IDEMPOTENT.has(method) ? mask | NEXT.non_idempotent : mask;
      if (canRetry(conf, s, m, got.sent, body, 1)) {
        ex.discard();
        t.response = since(got.t0, performance.now());
        t.bytesReceived = ex.conn.bytesIn;
        releasePeer(rt, peer, status !== 403 && status !== 404);
        s.tries--;
        s.lastFailure = ['next', status];
        continue;
      }
    }
    if (conf.interceptErrors && status >= 300) {
      // No error_page on this branch yet: the status gets tresty's own page.
      ex.discard();
      t.response = since(got.t0, performance.now());
      releasePeer(rt, peer, false);
      return status;
    }
    if (p.refuse !== null && p.refuse(r, status)) {
      // The cache answers instead (a stale entry, or a revalidated one).
      ex.discard();
      t.response = since(got.t0, performance.now());
      releasePeer(rt, peer, false);
      return status;
    }
    return finishStream(rt, peer, t, got.t0, ex, streamAnswer(r, p, ex, aborted));
  }
}

/** An answer kept as its head came (Exchange.streamed): its try ends with the stream. */
function kept(rt: UpstreamRt, peer: Peer, t: UpstreamTry, t0: number, ex: Exchange, streamed: Promise<number> | number): Promise<number> | number {
  t.status = ex.head!.status;
  t.header = since(t0, ex.headAt);
  return finishStream(rt, peer, t, t0, ex, streamed);
}

/** Small answers (by Content-Length) are held until the proxy decides: they come whole. */
const HOLD_SMALL = 16 * 1024;

function finishStream(rt: UpstreamRt, peer: Peer, t: UpstreamTry, t0: number, ex: Exchange, streamed: Promise<number> | number): Promise<number> | number {
  // A whole answer (the common small one) is written already: no promise to wait for.
  if (typeof streamed === 'number') return endTry(rt, peer, t, t0, ex, streamed);
  return streamed.then((rc) => endTry(rt, peer, t, t0, ex, rc));
}

function endTry(rt: UpstreamRt, peer: Peer, t: UpstreamTry, t0: number, ex: Exchange, rc: number): number {
  t.response = since(t0, ex.endAt || performance.now());
  t.bytesReceived = ex.conn.bytesIn;
  releasePeer(rt, peer, false);
  return rc;
}

/** nginx's rule for another try: tries left, the condition listed, the body sendable, time left. */
function canRetry(conf: ProxyConf, s: TryState, mask: number, sent: boolean, body: BodySource | null, keep: number): boolean {
  if (s.tries <= keep) return false;
  if ((conf.nextUpstream & mask) !== mask) return false;
  if (sent && body !== null && !body.replayable) return false;
  return !(conf.nextUpstreamTimeout > 0 && performance.now() - s.started >= conf.nextUpstreamTimeout);
}

function adhocPeer(host: string, port: number): Peer {
  return new Peer(host.includes(':') && !host.startsWith('unix:') ? `[${host}]:${port}` : host.startsWith('unix:') ? host : `${host}:${port}`, host, port);
}

/** Ends a try for the peer's accounting; true when a failure took the peer out. */
function releasePeer(rt: UpstreamRt, peer: Peer, failed: boolean): boolean {
  if (!rt.set.peers.includes(peer) && !rt.set.backup?.peers.includes(peer)) return false; // a balancer's own peer
  return release(rt.set, peer, failed, Date.now());
}
