// Small answers are copied out of the ring's shared memory through views kept per slot offset
// (formats.ts, copyOut): a kept view must never hand one call another call's bytes, whether the
// slot was reused, the length changed, or another plugin's ring has a slot at the same offset.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyOut } from '../src/ffi/formats.js';
import { loadFfi, unloadAll } from '../src/ffi/index.js';
import { ensureNative, testRuntimes } from './ffi-helpers.js';

const bytes = (u: unknown) => Buffer.from((u as Uint8Array).buffer, (u as Uint8Array).byteOffset, (u as Uint8Array).byteLength);

describe('copies out of shared memory', () => {
  beforeAll(ensureNative);
  afterEach(unloadAll);

  it('copies from the memory and the range asked for, whatever view was kept', () => {
    const a = new Uint8Array(new SharedArrayBuffer(8192));
    const b = new Uint8Array(new SharedArrayBuffer(8192));
    a.fill(1);
    b.fill(2);
    const out = new Uint8Array(600);
    copyOut(a, 1056, 1056 + 512, out);
    expect(out.subarray(0, 512).every((x) => x === 1)).toBe(true);
    copyOut(b, 1056, 1056 + 512, out); // same offset and length, another ring
    expect(out.subarray(0, 512).every((x) => x === 2)).toBe(true);
    a.fill(3, 1056, 1056 + 512); // the slot reused: new bytes at the same place
    copyOut(a, 1056, 1056 + 512, out);
    expect(out.subarray(0, 512).every((x) => x === 3)).toBe(true);
    out.fill(0);
    copyOut(a, 1056, 1056 + 100, out); // a shorter answer at the same place
    expect([out[99], out[100]]).toEqual([3, 0]);
    const sub = new Uint8Array(a.buffer, 1024, 4096); // a view that does not start at 0
    sub.fill(4, 32, 32 + 512);
    copyOut(sub, 32, 32 + 512, out);
    expect(out.subarray(0, 512).every((x) => x === 4)).toBe(true);
  });

  it('gives each call its own answer across two plugins whose slots sit at the same offsets', async () => {
    const searchPath = [testRuntimes];
    const p = loadFfi('tresty_test_echo', 'threads=1', { searchPath, format: 'raw' });
    const q = loadFfi('tresty_test_echo', 'threads=2', { searchPath, format: 'raw' });
    for (let round = 0; round < 20; round++) {
      const sent = Array.from({ length: 16 }, () => randomBytes(512));
      const got = await Promise.all(sent.map((b, i) => (i % 2 ? q : p).call(b)));
      sent.forEach((b, i) => expect([round, i, bytes(got[i]).equals(b)]).toEqual([round, i, true]));
    }
    const m = loadFfi('tresty_test_echo', 'threads=1', { searchPath, format: 'msgpack' });
    const recs = Array.from({ length: 64 }, (_, i) => ({ i, s: randomBytes(200).toString('hex') }));
    expect(await Promise.all(recs.map((r) => m.call(r)))).toEqual(recs);
  });
});
