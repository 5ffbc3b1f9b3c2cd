// Strings for string and raw plugins on a ring are written as UTF-8 straight into their submit
// slot when they fit (src/ffi/slot-write.ts): the runtime must get exactly the bytes it got
// before (Buffer.from(s, 'utf8')), at every length around the slot's 992 bytes, for multi-byte
// and broken (lone surrogate) text, and for calls that wait in the backlog with the ring full.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { utf8Into } from '../src/ffi/formats.js';
import { loadFfi, unloadAll } from '../src/ffi/index.js';
import { INLINE_MAX } from '../src/ring/layout.js';
import { ensureNative, testRuntimes } from './ffi-helpers.js';

const searchPath = [testRuntimes];
const texts = (): string[] => {
  const out: string[] = ['', 'a', 'x'.repeat(300)];
  for (let n = INLINE_MAX - 6; n <= INLINE_MAX + 2; n++) out.push('y'.repeat(n));
  for (const unit of ['é', '€', '😀', '\ud800', 'a\udc00']) {
    const bytes = Buffer.byteLength(unit, 'utf8');
    for (let k = Math.floor(INLINE_MAX / bytes) - 2; k <= Math.floor(INLINE_MAX / bytes) + 2; k++) out.push(unit.repeat(k));
    out.push('z'.repeat(INLINE_MAX - 2) + unit); // the last character straddles the end
  }
  return out;
};

describe('strings written straight into a ring slot', () => {
  beforeAll(ensureNative);
  afterEach(unloadAll);

  it('utf8Into writes what Buffer.from writes, or says it may not have fit', () => {
    const dst = new Uint8Array(2048);
    for (const s of texts()) {
      const want = Buffer.from(s, 'utf8');
      const n = utf8Into(dst, s, 16, INLINE_MAX);
      if (want.length > INLINE_MAX) {
        expect([s.length, n]).toEqual([s.length, -1]);
      } else if (n >= 0) {
        expect([s.length, Buffer.from(dst.subarray(16, 16 + n)).equals(want)]).toEqual([s.length, true]);
      }
    }
    expect(utf8Into(dst, 'y'.repeat(INLINE_MAX), 16, INLINE_MAX)).toBe(INLINE_MAX); // exactly full
  });

  it('echoes every such string unchanged through string and raw plugins', async () => {
    const str = loadFfi('tresty_test_echo', 'threads=1', { searchPath, format: 'string' });
    const raw = loadFfi('tresty_test_echo', 'threads=1', { searchPath, format: 'raw' });
    for (const s of texts()) {
      const want = Buffer.from(s, 'utf8');
      expect([s.length, await str.call(s)]).toEqual([s.length, want.toString('utf8')]);
      const got = (await raw.call(s)) as Uint8Array;
      expect([s.length, Buffer.from(got).equals(want)]).toEqual([s.length, true]);
    }
  });

  it('keeps strings that wait in the backlog (more calls than slots) until a slot frees', async () => {
    const p = loadFfi('tresty_test_echo', 'threads=2', { searchPath, format: 'string', maxQueue: 8192 });
    const sent = Array.from({ length: 5000 }, (_, i) => `${i}:${'é'.repeat(i % 600)}`);
    expect(await Promise.all(sent.map((s) => p.call(s)))).toEqual(sent);
  });
});
