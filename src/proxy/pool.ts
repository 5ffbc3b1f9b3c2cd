// nginx's `keepalive N` for one upstream in one worker: up to N idle connections, the most
// recently used first; a connection past keepalive_requests or keepalive_time is closed instead
// of kept, one idle longer than keepalive_timeout is closed, and when the cache is full the one
// idle longest makes room.

import type { UpstreamConn } from './conn.js';

export interface PoolLimits {
  readonly max: number;
  readonly timeout: number; // ms
  readonly requests: number;
  readonly time: number; // ms
}

export class KeepalivePool {
  /** Oldest first. */
  private readonly idle: UpstreamConn[] = [];

  constructor(readonly limits: PoolLimits) {}

  get size(): number { return this.idle.length; }

  /** An idle connection to `key` (the most recent), or null. */
  take(key: string): UpstreamConn | null {
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const c = this.idle[i]!;
      if (c.key !== key) continue;
      this.idle.splice(i, 1);
      c.onClose = null;
      c.reused = true;
      return c;
    }
    return null;
  }

  /** Keeps a connection whose answer completed, or closes it when it may not be reused. */
  put(c: UpstreamConn): void {
    const l = this.limits;
    if (!c.reusable || c.requests >= l.requests || Date.now() - c.born >= l.time) {
      c.socket.destroy();
      return;
    }
    if (this.idle.length >= l.max) this.idle.shift()!.socket.destroy();
    c.park(l.timeout);
    c.onClose = this.forget;
    this.idle.push(c);
  }

  /** An idle connection closed (by the server, or its keepalive_timeout): no longer kept. */
  private readonly forget = (gone: UpstreamConn): void => {
    const i = this.idle.indexOf(gone);
    if (i >= 0) this.idle.splice(i, 1);
  };

  /** Worker shutdown: close every idle connection. */
  close(): void {
    for (const c of this.idle.splice(0)) c.socket.destroy();
  }
}
