// A call must never be lost because a taking thread was descheduled inside its take. With several
// threads taking from one submit ring (a pool, a runtime with several pollers), a slot claimed
// but not yet released stays busy for a lap, and the event loop's submit position can reach it;
// the call then waits for the slot, it is not refused. The descheduled taker is played here by
// the test: it gives the next submit slot the sequence a claimed, unreleased slot has, then
// releases it later, as the taker would when it runs again.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadFfi, unloadAll } from '../src/ffi/index.js';
import * as L from '../src/ring/layout.js';
import { ensureNative, testRuntimes } from './ffi-helpers.js';

const searchPath = [testRuntimes];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a submit slot still held by a descheduled taker', () => {
  beforeAll(ensureNative);
  afterEach(unloadAll);

  it('keeps the call queued until the slot is released, then answers it', async () => {
    const p = loadFfi('tresty_test_slow', 'loop', { searchPath, maxQueue: 4 });
    const sab = (p as unknown as { core: { channel: { sab: SharedArrayBuffer } } }).core.channel.sab;
    const i32 = new Int32Array(sab);
    const cap = i32[L.CAPACITY >> 2]!;
    expect(cap).toBe(4);
    for (const s of ['a', 'b', 'c']) expect(await p.call(s)).toBe(s);

    // One call in flight, answered later: its completion makes the channel refill from its backlog.
    const slow = p.call('sleep:300');
    const t0 = Date.now();
    while (Atomics.load(i32, L.SUB_HEAD >> 2) !== i32[L.SUB_TAIL >> 2] && Date.now() - t0 < 10_000) await sleep(2);
    expect(Atomics.load(i32, L.SUB_HEAD >> 2)).toBe(i32[L.SUB_TAIL >> 2]); // the poller took it

    const pos = i32[L.SUB_TAIL >> 2]!;
    const seq = (L.SUBMIT_OFFSET + (pos & (cap - 1)) * L.SLOT_SIZE + L.SLOT_SEQ) >> 2;
    expect(Atomics.load(i32, seq)).toBe(pos); // free for this lap
    Atomics.store(i32, seq, pos - cap + 1); // claimed a lap ago, not released yet

    let settled: string | null = null;
    const held = p.call('x').then((v) => { settled = `answer ${String(v)}`; }, (e: Error) => { settled = `error ${e.message}`; });
    expect(await slow).toBe('sleep:300'); // a completion: the backlog is tried while the slot is busy
    await sleep(50);
    expect(settled).toBeNull(); // still waiting for its slot, not refused

    Atomics.store(i32, seq, pos); // the taker runs again and releases the slot
    await held;
    expect(settled).toBe('answer x');
    expect(await p.call('y')).toBe('y');
  }, 30_000);
});
