// The skip after a missed quick look (src/ffi/look-backoff.ts, used by src/ffi/channel.ts): one
// round after a miss in a run of hits, doubling while looks keep missing up to the cap, and back
// to one after a hit. The rule before skipped 16 rounds for any miss.
import { describe, expect, it } from 'vitest';
import { LookBackoff } from '../src/ffi/look-backoff.js';

describe('quick look back-off', () => {
  it('skips one round after a lone miss, doubles while misses continue, and starts again after a hit', () => {
    const b = new LookBackoff(16);
    expect(b.after(true)).toBe(0);
    expect(b.after(false)).toBe(1);
    expect(b.after(true)).toBe(0);
    expect(b.after(false)).toBe(1); // a lone miss again: one round, not 16
    expect([false, false, false, false, false, false].map((m) => b.after(m))).toEqual([2, 4, 8, 16, 16, 16]);
    expect(b.after(true)).toBe(0);
    expect(b.after(false)).toBe(1);
  });
});
