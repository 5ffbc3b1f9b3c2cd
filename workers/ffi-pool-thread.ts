// A piscina thread serving a function library: take a request off the submit ring, run the C
// function on it (tresty_fn_run answers through the completion ring and doorbell), and sleep
// in Atomics.wait while the ring is empty. It returns when the plugin closes, or after IDLE_MS
// without work so an idle pool holds no task open (src/ffi/pool.ts starts it again on demand).
import { bindHost, type HostBindings } from '../src/ffi/bindings.js';
import type { PoolTask } from '../src/ffi/pool.js';
import { CAPACITY, POOL_ACTIVE, STATE, STATE_OPEN, SUB_FUTEX, SUB_SLEEPERS, submitPlace } from '../src/ring/layout.js';
import { Ring } from '../src/ring/ring.js';

let host: HostBindings | undefined;
const CLOCK_EVERY = 16; // tries between clock reads while spinning
const IDLE_MS = 500;

export default function serve(task: PoolTask): number {
  const h = (host ??= bindHost(task.hostPath));
  const i32 = new Int32Array(task.sab);
  const ring = new Ring(task.sab, submitPlace(i32[CAPACITY >> 2]!));
  const open = () => Atomics.load(i32, STATE >> 2) === STATE_OPEN;
  let served = 0;
  let spinUntil = -1; // performance.now() at which the current spin ends; -1: not spinning
  let tries = 0;
  for (;;) {
    const t = h.taskTryPoll(task.tq);
    if (t) { // koffi gives NULL as null
      h.fnRun(t, task.fn);
      served++;
      spinUntil = -1;
      continue;
    }
    // Spin only while the host says a core is idle (its gate, as for native pollers): the next
    // request often lands within microseconds, but on a busy machine a spin takes a worker's core.
    if (open()) {
      if (spinUntil < 0) {
        const ns = h.spinBudget(task.tq);
        if (ns > 0) {
          spinUntil = performance.now() + ns / 1e6;
          tries = 0;
          continue;
        }
      } else if (++tries % CLOCK_EVERY !== 0 || performance.now() < spinUntil) {
        continue;
      }
    }
    spinUntil = -1;
    const seen = Atomics.load(i32, SUB_FUTEX >> 2);
    Atomics.add(i32, SUB_SLEEPERS >> 2, 1);
    let woke = 'not-equal';
    if (ring.isEmpty() && open()) woke = Atomics.wait(i32, SUB_FUTEX >> 2, seen, IDLE_MS);
    Atomics.sub(i32, SUB_SLEEPERS >> 2, 1);
    if (woke === 'timed-out' || !open()) {
      // Leave, unless a request slipped in after the count dropped (JS reads the count after
      // publishing, so one of the two sides always sees the other).
      Atomics.sub(i32, POOL_ACTIVE >> 2, 1);
      if (ring.isEmpty()) return served;
      Atomics.add(i32, POOL_ACTIVE >> 2, 1);
    }
  }
}
