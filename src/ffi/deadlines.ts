// Call timeouts without a timer per call. Calls that share a timeout value (all the calls of a
// plugin with its default, or every call with the same override) expire in the order they
// were made, since deadline = submission time + the same delay. So each distinct value gets a
// FIFO and one timer armed for its oldest live call: adding a call is an array push, settling
// one is a flag, and a timer fires about once per timeout period instead of being armed and
// cleared for every call (a setTimeout + clearTimeout pair cost more than the rest of a call).
//
// The clock is read once per run of microtasks, not once per call (turnClock): performance.now()
// cost 80-130 ns here (a paravirtualized clock, and Node 20's lazy global getter), a tenth of a
// ring call at 64 in flight (bench/README.md, "The ring's JS path, piece by piece"). A call made
// after long synchronous work in the same run is timed from that run's clock, so it may expire
// early by that work's duration: Node's own setTimeout does the same (it counts from the loop's
// cached time, which is older still).
import { performance } from 'node:perf_hooks';

export interface Expiring {
  /** performance.now() value after which the call times out. */
  deadline: number;
  /** false once settled (answered, aborted or timed out). */
  live: boolean;
  /** The queue that holds it while it is live, so settling can tell it; null otherwise. */
  queue: { settled(c: Expiring): void } | null;
}

export class DeadlineQueue<T extends Expiring> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private dead = 0; // settled entries still in items[head..]
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly timeoutMs: number,
    private readonly expire: (c: T) => void,
    private readonly onEmpty: (q: DeadlineQueue<T>) => void,
  ) {}

  add(c: T, now: number): void {
    c.deadline = now + this.timeoutMs;
    c.queue = this;
    this.items.push(c);
    if (!this.timer) this.arm(this.timeoutMs);
  }

  /** c settled some other way: drop it from the front, and keep the array at O(live calls). */
  settled(c: T): void {
    c.queue = null;
    this.dead++;
    const items = this.items;
    while (this.head < items.length && !items[this.head]!.live) {
      items[this.head++] = undefined;
      this.dead--;
    }
    if (this.head === items.length) {
      this.items = [];
      this.head = 0;
      this.dead = 0;
    } else if (this.head > 1024 && this.head * 2 > items.length) {
      // Under steady load the queue never empties: without this the array would grow by one
      // slot per call until the timer fires (a 60 s timeout: ~10^6 slots), an old-space array
      // full of pointers to young calls that every scavenge walks (it made /echo-ffi 2x slower).
      this.items = items.slice(this.head);
      this.head = 0;
    } else if (this.dead > 1024 && this.dead * 2 > items.length - this.head) {
      // Answers came out of order behind a slow call: compact so memory follows live calls.
      this.items = items.slice(this.head).filter((x) => x!.live);
      this.head = 0;
      this.dead = 0;
    }
  }

  private arm(ms: number): void {
    // Unref'd: live calls keep the process alive through the doorbell socket, which is ref'd.
    // (Node fires a delay over 2^31-1 ms after 1 ms: a longer timeout re-arms on the way.)
    this.timer = setTimeout(this.fire, Math.min(0x7fffffff, Math.max(1, Math.ceil(ms))));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    const items = this.items;
    while (this.head < items.length) {
      const c = items[this.head]!;
      if (c.live && c.deadline > now) break;
      items[this.head++] = undefined;
      if (!c.live) {
        this.dead--;
        continue;
      }
      c.queue = null; // popped already: its settling must not touch the queue
      this.expire(c);
    }
    if (this.head < this.items.length) {
      // Timers may fire early by the event loop's cached clock, and the head moves on.
      this.arm(this.items[this.head]!.deadline - now);
    } else {
      this.items = [];
      this.head = 0;
      this.dead = 0;
      this.onEmpty(this);
    }
  };

  /** Live calls waiting here (tests). */
  get size(): number {
    return this.items.length - this.head - this.dead;
  }
}

let clock = -1; // performance.now() of this run of microtasks; -1: not read yet
const forget = (): void => {
  clock = -1;
};
const settled = Promise.resolve();

/** performance.now() as of the first call of this run of microtasks. */
export function turnClock(): number {
  if (clock < 0) {
    clock = performance.now();
    // Forgotten after the microtasks already queued (the batch that shares it). A reaction on a
    // settled promise: ~45 ns here, against ~75 for queueMicrotask (an AsyncResource each).
    void settled.then(forget);
  }
  return clock;
}

/** One queue per timeout value in use; an empty queue is dropped when its timer finds it so. */
export class Deadlines<T extends Expiring> {
  private readonly queues = new Map<number, DeadlineQueue<T>>();
  private last: DeadlineQueue<T> | undefined; // the default timeout's queue, almost always

  constructor(private readonly expire: (c: T, timeoutMs: number) => void) {}

  add(c: T, timeoutMs: number): void {
    let q = this.last;
    if (!q || q.timeoutMs !== timeoutMs) {
      q = this.queues.get(timeoutMs);
      if (!q) {
        q = new DeadlineQueue<T>(timeoutMs, (x) => this.expire(x, timeoutMs), (e) => this.drop(e));
        this.queues.set(timeoutMs, q);
      }
      this.last = q;
    }
    q.add(c, turnClock());
  }

  private drop(q: DeadlineQueue<T>): void {
    if (this.queues.get(q.timeoutMs) === q) this.queues.delete(q.timeoutMs);
    if (this.last === q) this.last = undefined;
  }
}
