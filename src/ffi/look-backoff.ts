// How many doorbell rounds the event loop skips quick looks for after one missed (channel.ts).
// A quick look that misses once in a run of hits met a pause (a collection, a poller being
// woken): skipping a fixed 16 rounds for it sent the next 16 calls through the doorbell (raw
// 100 KB at 1 in flight: a fifth of its calls, at about twice the latency; 42.5k against 31-33k
// doorbells over 6 s once the skip started at one). The skip doubles while quick looks keep
// missing, so a runtime slower than the look's budget still ends up on doorbells, and a hit
// starts it again from one.
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
