// The worker's cosocket connection pools (setkeepalive), one per key: "host:port", "unix:/path",
// or the `pool` name given to connect. Module state, so per worker process, as OpenResty's pools
// are per nginx worker. An idle connection is closed after its keepalive timeout, and dropped as
// soon as the peer shows any sign of life (data it sent unasked, EOF, an error): the next user
// would otherwise read a stale answer or a dead socket.
//
// A pool also counts the connections open under its key (in use or idle). With connect's
// `backlog` option, a connect that would exceed pool_size waits in a queue for one to be freed.

import type { Conn } from './socket-conn.js';

/** lua_socket_pool_size's default. */
export const DEFAULT_POOL_SIZE = 30;
/** lua_socket_keepalive_timeout's default, in ms. */
export const DEFAULT_KEEPALIVE_MS = 60_000;

interface Waiter { wake: () => void }

interface Pool {
  /** Null until a connect with pool_size/backlog or a setkeepalive creates the pool. */
  size: number | null;
  /** Idle connections, least recently used first. */
  idle: Conn[];
  /** Connections open under this key: in use and idle. */
  open: number;
  waiters: Waiter[];
}

const pools = new Map<string, Pool>();

function poolOf(key: string): Pool {
  let p = pools.get(key);
  if (p === undefined) {
    p = { size: null, idle: [], open: 0, waiters: [] };
    pools.set(key, p);
  }
  return p;
}

/** Creates the pool with `size` unless it exists (a pool's size never changes, as in OpenResty). */
export function ensurePool(key: string, size: number): void {
  const p = poolOf(key);
  p.size ??= size;
}

/** Counts a newly opened connection; its close uncounts it and lets a queued connect go. */
export function track(c: Conn): void {
  const p = poolOf(c.key);
  p.open++;
  c.onGone = () => {
    p.open--;
    p.waiters.shift()?.wake();
  };
}

/** The most recently pooled idle connection of `key`, or null. */
export function takeIdle(key: string): Conn | null {
  const p = pools.get(key);
  if (p === undefined) return null;
  for (;;) {
    const c = p.idle.pop();
    if (c === undefined) return null;
    leaveIdle(c);
    if (c.ended || c.q.length > 0) { c.destroy(); continue; }
    c.reused++;
    return c;
  }
}

const idleTimers = new WeakMap<Conn, NodeJS.Timeout>();

function leaveIdle(c: Conn): void {
  c.onIdleEvent = null;
  const t = idleTimers.get(c);
  if (t !== undefined) clearTimeout(t);
  idleTimers.delete(c);
}

function drop(p: Pool, c: Conn): void {
  const i = p.idle.indexOf(c);
  if (i >= 0) p.idle.splice(i, 1);
  leaveIdle(c);
  c.destroy();
}

/** Puts `c` in its pool for `ms` (0: no limit); a full pool closes its least recently used one. */
export function putIdle(c: Conn, ms: number, size: number): void {
  const p = poolOf(c.key);
  p.size ??= size;
  while (p.idle.length >= p.size && p.idle.length > 0) drop(p, p.idle[0]!);
  if (p.size <= 0) { c.destroy(); return; }
  p.idle.push(c);
  c.onIdleEvent = () => drop(p, c);
  if (ms > 0) {
    const t = setTimeout(() => drop(p, c), ms);
    t.unref();
    idleTimers.set(c, t);
  }
  // The socket must read while idle, or a peer's close or stray data would go unnoticed.
  if (c.s.isPaused()) c.s.resume();
  // A connect queued by `backlog` can take this one now.
  p.waiters.shift()?.wake();
}

/**
 * With `backlog`: whether a connect to `key` must wait (pool_size connections are open), and
 * the promise of its turn (false: timed out). Null when it may connect now; a string when the
 * queue is full.
 */
export function queueFor(key: string, backlog: number, ms: number): Promise<boolean> | string | null {
  const p = poolOf(key);
  const size = p.size ?? DEFAULT_POOL_SIZE;
  if (p.open < size || p.idle.length > 0) return null;
  if (p.waiters.length >= backlog) return 'too many waiting connect operations';
  return new Promise((resolve) => {
    const w: Waiter = {
      wake: () => { clearTimeout(t); resolve(true); },
    };
    const t = setTimeout(() => {
      const i = p.waiters.indexOf(w);
      if (i >= 0) p.waiters.splice(i, 1);
      resolve(false);
    }, ms);
    p.waiters.push(w);
  });
}

/** For tests and diagnostics: idle and open connections of a key. */
export function poolStats(key: string): { idle: number; open: number; size: number | null } {
  const p = pools.get(key);
  return p === undefined ? { idle: 0, open: 0, size: null } : { idle: p.idle.length, open: p.open, size: p.size };
}
