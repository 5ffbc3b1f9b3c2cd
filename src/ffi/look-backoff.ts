// When the event loop looks at a plugin's completions without a doorbell (channel.ts): how long a
// quick look may wait, how many a loop turn may run, and how many doorbell rounds it skips looks
// for after one missed.

/** The most doorbell rounds a missed look skips looks for (channel.ts). */
export const LOOK_BACKOFF = 16;
/** Quick looks per loop turn at most (Channel.scheduleQuick). */
export const QUICK_PER_TURN = 64;
/**
 * How long a quick look may poll the completion ring for an answer not there yet
 * (TRESTY_FFI_JS_WAIT_US, µs, at most 1000; 0: no quick looks). Measured (bench/README.md, "Quick
 * looks"): 20 µs took a plain process's raw 512 B call at 1 in flight from 100k to 286k calls/s,
 * CPU per call 18.7 to 6.6 µs; through HTTP under load the gate is shut and nothing changes.
 */
const QUICK_US = 20;
export const quickMs = (): number => {
  const v = process.env.TRESTY_FFI_JS_WAIT_US;
  return Math.min(Math.max(v === undefined || v === '' ? QUICK_US : Number(v) || 0, 0), 1000) / 1000;
};

/**
 * A quick look that misses once in a run of hits met a pause (a collection, a poller being
 * woken): skipping a fixed 16 rounds for it sent the next 16 calls through the doorbell (raw
 * 100 KB at 1 in flight: a fifth of its calls, at about twice the latency; 42.5k against 31-33k
 * doorbells over 6 s once the skip started at one). The skip doubles while quick looks keep
 * missing, so a runtime slower than the look's budget still ends up on doorbells, and a hit
 * starts it again from one.
 */
export class LookBackoff {
  private next = 1;

  constructor(private readonly max: number) {}

  /** After a quick look: the rounds to skip, 0 after a hit. */
  after(hit: boolean): number {
    if (hit) {
      this.next = 1;
      return 0;
    }
    const skip = this.next;
    this.next = Math.min(this.next * 2, this.max);
    return skip;
  }
}
