// Call timeouts share one timer per timeout value (src/ffi/deadlines.ts): expiry order, calls
// settled early, memory that follows live calls, and per-call overrides in their own queue.
import { describe, expect, it } from 'vitest';
import { DeadlineQueue, Deadlines, type Expiring, turnClock } from '../src/ffi/deadlines.js';

const item = (): Expiring & { id: number } => ({ deadline: 0, live: true, queue: null, id: 0 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const settle = (c: Expiring) => {
  c.live = false;
  c.queue?.settled(c);
};

describe('ffi deadlines', () => {
  it('expires only the calls still live, in order, with one timer', async () => {
    const expired: number[] = [];
    const q = new DeadlineQueue<Expiring & { id: number }>(20, (c) => {
      c.live = false;
      expired.push(c.id);
    }, () => {});
    const cs = Array.from({ length: 5 }, (_, id) => ({ ...item(), id }));
    for (const c of cs) q.add(c, performance.now());
    settle(cs[0]!);
    settle(cs[2]!);
    expect(q.size).toBe(3);
    await sleep(60);
    expect(expired).toEqual([1, 3, 4]);
    expect(q.size).toBe(0);
  });

  it('keeps memory at the live calls when answers overtake a slow one', () => {
    const q = new DeadlineQueue<Expiring>(60_000, () => {}, () => {});
    const slow = item();
    q.add(slow, performance.now());
    for (let i = 0; i < 100_000; i++) {
      const c = item();
      q.add(c, performance.now());
      settle(c);
    }
    expect(q.size).toBe(1);
    expect((q as unknown as { items: unknown[] }).items.length).toBeLessThan(4096);
    settle(slow);
    expect((q as unknown as { items: unknown[] }).items.length).toBe(0);
  });

  it('keeps memory at the live calls under steady load, when the queue never empties', () => {
    // 64 calls always in flight, answered in order: the head moves on for ever, and the array
    // must not keep a slot per call ever made (it did: a 60 s timeout meant ~10^6 slots).
    const q = new DeadlineQueue<Expiring>(60_000, () => {}, () => {});
    const inFlight: Expiring[] = [];
    for (let i = 0; i < 200_000; i++) {
      const c = item();
      q.add(c, performance.now());
      inFlight.push(c);
      if (inFlight.length > 64) settle(inFlight.shift()!);
    }
    expect(q.size).toBe(64);
    expect((q as unknown as { items: unknown[] }).items.length).toBeLessThan(4096);
  });

  it('gives each timeout value its own queue, so a short override expires first', async () => {
    const expired: [number, number][] = [];
    const d = new Deadlines<Expiring & { id: number }>((c, ms) => {
      c.live = false;
      expired.push([c.id, ms]);
    });
    const long = { ...item(), id: 1 };
    const short = { ...item(), id: 2 };
    d.add(long, 80);
    d.add(short, 10);
    await sleep(40);
    expect(expired).toEqual([[2, 10]]);
    await sleep(80);
    expect(expired).toEqual([[2, 10], [1, 80]]);
  });

  it('does not expire a timeout longer than a timer can hold (2^31-1 ms)', async () => {
    const expired: number[] = [];
    const d = new Deadlines<Expiring & { id: number }>((c) => {
      c.live = false;
      expired.push(c.id);
    });
    const c = { ...item(), id: 7 };
    d.add(c, 2 ** 31 + 5);
    await sleep(30);
    expect(expired).toEqual([]);
    settle(c);
  });

  it('reads the clock once per run of microtasks, and afresh in the next', async () => {
    const a = turnClock();
    const spin = performance.now() + 5;
    while (performance.now() < spin);
    expect(turnClock()).toBe(a); // the same run: the calls of one batch share one clock read
    await Promise.resolve();
    expect(turnClock() - a).toBeGreaterThanOrEqual(5);
  });

  it('times a call from its own turn, not from an earlier call\'s', async () => {
    const expired: number[] = [];
    const d = new Deadlines<Expiring & { id: number }>((c) => {
      c.live = false;
      expired.push(c.id);
    });
    d.add({ ...item(), id: 1 }, 200);
    await sleep(100);
    d.add({ ...item(), id: 2 }, 200); // due ~100 ms after the first
    await sleep(130);
    expect(expired).toEqual([1]);
    await sleep(150);
    expect(expired).toEqual([1, 2]);
  });
});
