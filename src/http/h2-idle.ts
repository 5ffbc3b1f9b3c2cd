// An HTTP/2 connection's idle time, as nginx's (1.19.7 on): while no stream is open the
// connection is closed (GOAWAY NO_ERROR, then the close, no log line) after client_header_timeout
// before its first stream and keepalive_timeout after the last one; after keepalive_requests
// streams a GOAWAY lets those finish and takes no more. node's own session timeout cannot do this:
// it counts any frame, and would close a quiet stream that is still open.
import type http2 from 'node:http2';

export interface IdleLimits {
  /** client_header_timeout (ms): the wait for the first stream. */
  readonly first: number;
  /** keepalive_timeout (ms): the wait after the last stream; 0 closes at once. */
  readonly idle: number;
  /** keepalive_requests: streams per connection (0: no limit). */
  readonly requests: number;
}

export function watchIdle(s: http2.ServerHttp2Session, limits: IdleLimits): void {
  let open = 0;
  let served = 0;
  let timer: NodeJS.Timeout | null = null;
  const gone = (): boolean => s.closed || s.destroyed;
  const arm = (ms: number): void => {
    if (ms <= 0) { s.close(); return; }
    timer = setTimeout(() => { timer = null; if (!gone() && open === 0) s.close(); }, ms);
    timer.unref();
  };
  arm(limits.first);
  s.on('stream', (st: http2.ServerHttp2Stream) => {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    open++;
    if (limits.requests > 0 && ++served >= limits.requests) s.close();
    st.once('close', () => { if (--open === 0 && !gone()) arm(limits.idle); });
  });
  s.once('close', () => { if (timer !== null) clearTimeout(timer); });
}
