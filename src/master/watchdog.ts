// worker_watchdog_timeout (beyond nginx): a thread inside each worker watches the worker's event
// loop. The loop bumps a counter in shared memory on a timer; when the counter stands still longer
// than the limit, the loop is stuck (`while (true) {}`, a catastrophic regex) and nothing running on
// it can ever answer again. The thread (workers/watchdog-thread.ts) then logs what the loop was
// running (src/request/watch.ts keeps it) and kills the worker; the master replaces it as any dead
// worker. A stuck worker takes no new connections meanwhile: the workers accept from the master's
// sockets in their own event loops (under node:cluster the master picks SCHED_NONE for this).
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ErrorLogSpec } from '../config/types.js';
import { WATCH_BEAT, WATCH_SLOTS, watchWith } from '../request/watch.js';

const THREAD = fileURLToPath(new URL('../../workers/watchdog-thread.js', import.meta.url));

export interface WatchdogData {
  readonly shared: SharedArrayBuffer;
  readonly timeoutMs: number;
  readonly errorLog: readonly ErrorLogSpec[];
}

/** Starts the watchdog of this worker; its thread never keeps the process alive. */
export function startWatchdog(timeoutMs: number, errorLog: readonly ErrorLogSpec[]): void {
  const shared = new SharedArrayBuffer(WATCH_SLOTS * 4);
  const slots = new Int32Array(shared);
  const thread = new Worker(THREAD, { workerData: { shared, timeoutMs, errorLog } satisfies WatchdogData });
  thread.unref();
  thread.on('error', () => { /* the watchdog is a helper: a failure of it must not take the worker down */ });
  watchWith(slots, (id, text) => thread.postMessage({ id, text }));
  // A tenth of the limit between beats (10 to 100 ms): a late timer is far from a missed limit.
  const beat = setInterval(() => { Atomics.add(slots, WATCH_BEAT, 1); }, Math.max(10, Math.min(100, timeoutMs / 10)));
  beat.unref();
}
