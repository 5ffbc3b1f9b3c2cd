// One try at one server, on the wire: connect (or take a kept connection), write the request
// and its body, wait for the answer's head; once more on a fresh connection when a kept one
// turns out closed and that is safe. Which server, and whether to try another, is proxy.ts's.

import type { UpstreamTry } from '../request/upstream.js';
import { type BodySource, MemoryBody } from './body.js';
import { ConnectFailure, connect, type Target, type UpstreamConn } from './conn.js';
import { Exchange, type Failure } from './exchange.js';
import { keepSession } from './target.js';
import type { UpstreamRt } from './upstreams.js';

/** Methods nginx does not send twice on its own (proxy_next_upstream non_idempotent). */
export const NON_IDEMPOTENT = new Set(['POST', 'LOCK', 'PATCH']);

/** Seconds since `t0` (performance.now()), for the $upstream_*_time variables. */
export const since = (t0: number, t: number): number => Math.max(0, (t - t0) / 1000);

/** The timeouts of one try (proxy_*_timeout, or what balancer_by_js set). */
export interface Timeouts { connect: number; send: number; read: number }

export interface Attempt {
  readonly ex: Exchange | null;
  readonly failure: Failure | null;
  /** Some of the request reached the upstream (nginx's request_sent). */
  readonly sent: boolean;
  readonly t0: number;
  readonly clientError?: unknown;
}

/** Connects (or reuses a kept connection), sends the request, waits for the answer's head. */
export async function attempt(
  rt: UpstreamRt, target: Target, head: string, method: string, body: BodySource | null, bufferSize: number,
  t: UpstreamTry, timeouts: Timeouts, aborted: { now: boolean; current: Exchange | null }, keepNow: (ex: Exchange) => void,
): Promise<Attempt> {
  const t0 = performance.now();
  for (let fresh = false; ; fresh = true) {
    let conn = fresh ? null : rt.pool?.take(target.key) ?? null;
    if (conn === null) {
      try {
        conn = await connect(target, timeouts.connect, bufferSize);
      } catch (e) {
        if (!(e instanceof ConnectFailure)) throw e;
        t.response = since(t0, performance.now());
        return { ex: null, failure: e, sent: false, t0 };
      }
      if (target.tls) keepSession(target, conn.socket as import('node:tls').TLSSocket);
      t.connect = since(t0, performance.now());
    } else {
      t.connect = 0;
    }
    if (aborted.now) {
      conn.abort();
      return { ex: null, failure: { kind: 'client', message: 'client prematurely closed connection' }, sent: false, t0 };
    }
    const ex = new Exchange(conn, finisher(rt));
    ex.onHeadNow = keepNow;
    aborted.current = ex;
    conn.begin(ex, method === 'HEAD', timeouts.read, timeouts.send);
    let clientError: unknown;
    const w = body === null ? conn.write(head) : undefined;
    if (body === null && w === undefined) {
      conn.sent(); // the common case: a head that fits the socket, no body
    } else {
      send(conn, head, body, w).catch((e: unknown) => {
        clientError = e;
        ex.onFail('client', 'client body failed');
        conn!.abort();
      });
    }
    await ex.ready;
    t.bytesSent = Buffer.byteLength(head, 'latin1') + (body?.sent ?? 0);
    // A kept connection the server closed meanwhile: once more on a fresh one, if that is safe.
    if (conn.reused && ex.failure?.kind === 'error' && conn.bytesIn === 0 && !NON_IDEMPOTENT.has(method)
      && (body === null || body.replayable) && !aborted.now) {
      continue;
    }
    if (ex.failure !== null) t.response = since(t0, ex.endAt);
    return { ex, failure: null, sent: true, t0, clientError };
  }
}

/**
 * Writes the head (with a small body in the same write) and the body; then the read timeout
 * runs. `written`: the head went already and this is its wait for the socket to drain.
 */
async function send(conn: UpstreamConn, head: string, body: BodySource | null, written?: Promise<void> | void): Promise<void> {
  if (body === null) {
    await written;
  } else if (body instanceof MemoryBody && body.length <= 16384) {
    body.sent = body.length;
    const w = conn.write(body.length === 0 ? head : Buffer.concat([Buffer.from(head, 'latin1'), body.data]));
    if (w) await w;
  } else {
    const w = conn.write(head);
    if (w) await w;
    if (body !== null && !body.replayable) conn.streamingBody();
    if (body !== null) await body.send(conn, body.length < 0);
  }
  conn.sent();
}

/** The answer is complete: its connection goes back to the pool when it may be reused. */
function finished(rt: UpstreamRt, c: UpstreamConn): void {
  if (rt.pool !== null && c.reusable) rt.pool.put(c);
  else c.socket.destroy();
}

const finishers = new WeakMap<UpstreamRt, (c: UpstreamConn) => void>();

/** finished() for `rt` as one function per upstream, not one closure per try. */
function finisher(rt: UpstreamRt): (c: UpstreamConn) => void {
  let f = finishers.get(rt);
  if (f === undefined) {
    f = (c) => finished(rt, c);
    finishers.set(rt, f);
  }
  return f;
}
