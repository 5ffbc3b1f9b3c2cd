// The watchdog thread of a worker (src/master/watchdog.ts): checks the heartbeat the worker's
// event loop bumps; stuck past worker_watchdog_timeout, the loop is logged with what it was running
// and the worker is killed (SIGKILL: a stuck loop runs no signal handler), for the master to replace.
import { parentPort, workerData } from 'node:worker_threads';
import { ErrorLog } from '../src/log/index.js';
import type { WatchdogData } from '../src/master/watchdog.js';
import { WATCH_BEAT, WATCH_CURRENT, WATCH_LAST } from '../src/request/watch.js';

const { shared, timeoutMs, errorLog } = workerData as WatchdogData;
const slots = new Int32Array(shared);
const names = new Map<number, string>();
parentPort!.on('message', (m: { id: number; text: string }) => { names.set(m.id, m.text); });

const name = (id: number): string => names.get(id) ?? `handler #${id}`;
let beat = Atomics.load(slots, WATCH_BEAT);
let since = Date.now();

setInterval(() => {
  const now = Date.now();
  const b = Atomics.load(slots, WATCH_BEAT);
  if (b !== beat) {
    beat = b;
    since = now;
    return;
  }
  if (now - since < timeoutMs) return;
  const cur = Atomics.load(slots, WATCH_CURRENT);
  const last = Atomics.load(slots, WATCH_LAST);
  const what = cur !== 0 ? `in ${name(cur)}`
    : last !== 0 ? `outside a handler's synchronous code (after an await, or in a callback); the last handler started was ${name(last)}`
      : 'outside any handler';
  try {
    // Opened now, not at start: the files may have been rotated (USR1) since.
    new ErrorLog(errorLog, true).alert(`worker process ${process.pid} event loop blocked for ${now - since} ms ${what}; `
      + `killing it (worker_watchdog_timeout ${timeoutMs}ms, TRESTY_ERR_WORKER_BLOCKED)`);
  } finally {
    process.kill(process.pid, 'SIGKILL');
  }
}, Math.max(10, Math.min(250, timeoutMs / 4)));
