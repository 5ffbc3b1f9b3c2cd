// The doorbell of a plugin's completion ring: a pipe the host writes one byte to when JS waits
// (native/include/tresty_ring.h). Who reads it: the worker's native HTTP engine when there is one
// (its epoll watches the pipe, so one engine pass drains network events and completions together
// and the answers they release leave in that pass's flush), else a net.Socket (a libuv stream:
// a loop callback, a Buffer and an event per doorbell, and its own flush of the answers).
import { closeSync } from 'node:fs';
import net from 'node:net';

export interface Bell {
  /** Who reads it (debugInfo, tests). */
  readonly kind: 'engine' | 'socket';
  /** Keeps the process alive while calls are live. */
  ref(): void;
  unref(): void;
  /** Stops reading and closes the fd. */
  destroy(): void;
}

/**
 * An event loop's owner that can read doorbells itself. `ring` runs for each wake-up; `detached`
 * when the owner stops (the engine shut down) and the bell must be read some other way.
 * Returns null when it cannot watch the fd, or no longer runs (a bell given to a stopped engine
 * would never ring).
 */
export type BellWatcher = (fd: number, ring: () => void, detached: () => void) => Bell | null;

let watcher: BellWatcher | null = null;

/** Set by the worker once its engine runs (workers/http-worker.ts); null goes back to sockets. */
export function setBellWatcher(w: BellWatcher | null): void {
  watcher = w;
}

/** A bell on fd: the watcher's if there is one, else a socket. */
export function openBell(fd: number, ring: () => void, detached: () => void): Bell {
  return watcher?.(fd, ring, detached) ?? socketBell(fd, ring);
}

export function socketBell(fd: number, ring: () => void): Bell {
  const s = new net.Socket({ fd, readable: true, writable: false });
  s.on('data', ring);
  s.on('error', () => {}); // only at close; completions are still read by drain()
  s.unref(); // ref'd only while calls are live, so an idle plugin never holds the process
  return { kind: 'socket', ref: () => s.ref(), unref: () => s.unref(), destroy: () => s.destroy() };
}

/** The doorbell fd of a plugin that never opened its bell (no call was made). */
export function closeBellFd(fd: number): void {
  try {
    closeSync(fd);
  } catch { /* already closed */ }
}
