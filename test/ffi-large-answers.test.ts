// Answers over a slot's size: raw ones are carved from shared slabs (kept by the caller), the
// others are decoded out of one reused scratch array. Both must give every call its own answer,
// whatever the size and however many are in flight, on a runtime's ring and on the event loop.
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FfiPlugin, loadFfi, unloadAll } from '../src/ffi/index.js';
import { ensureNative, testRuntimes } from './ffi-helpers.js';

const searchPath = [testRuntimes];
type Format = 'raw' | 'string' | 'json' | 'msgpack';
const ring = (format: Format): FfiPlugin => loadFfi('tresty_test_echo', 'threads=2', { searchPath, format });
const inline = (format: Format): FfiPlugin =>
  loadFfi('tresty_test_fnlib', null, { searchPath, kind: 'function', symbol: 'tresty_test_echo', blocking: false, format });

// Around each boundary: the 8 KB and 128 KB slab limits, the inline path's 64 KB buffer, the
// scratch array's first 64 KB and its 1 MB cap.
const SIZES = [8 * 1024, 8 * 1024 + 1, 20_000, 65_536, 65_537, 128 * 1024, 128 * 1024 + 1, 300_000, 1024 * 1024 + 5];
const bytes = (u: unknown) => Buffer.from((u as Uint8Array).buffer, (u as Uint8Array).byteOffset, (u as Uint8Array).byteLength);

describe.each([['a runtime ring', ring], ['the event loop (blocking off)', inline]])('large answers through %s', (_, open) => {
  beforeAll(ensureNative);
  afterEach(unloadAll);

  it('raw: every answer keeps its own bytes while later ones arrive', async () => {
    const p = open('raw');
    const sent = [...SIZES, ...SIZES].map((n) => randomBytes(n));
    const got = await Promise.all(sent.map((b) => p.call(b)));
    // a second wave reuses whatever the first one left: the first answers must not change
    const again = await Promise.all(sent.map((b) => p.call(Buffer.from(b).reverse())));
    sent.forEach((b, i) => {
      expect([i, bytes(got[i]).equals(b)]).toEqual([i, true]);
      expect([i, bytes(again[i]).equals(Buffer.from(b).reverse())]).toEqual([i, true]);
    });
  });

  it('raw: answers up to 128 KB share 1 MB slabs, larger ones have their own memory', async () => {
    const p = open('raw');
    const mid = (await p.call(randomBytes(20_000))) as Uint8Array;
    const big = (await p.call(randomBytes(128 * 1024 + 1))) as Uint8Array;
    expect(mid.buffer.byteLength).toBe(1024 * 1024);
    expect(big.buffer.byteLength).toBe(128 * 1024 + 1);
  });

  it('string, json and msgpack: each decoded answer is its own', async () => {
    for (const format of ['string', 'json', 'msgpack'] as const) {
      const p = open(format);
      const values = SIZES.map((n, i) => {
        const s = String.fromCharCode(97 + (i % 26)).repeat(n - 20) + 'é';
        return format === 'string' ? s : { i, s, ...(format === 'msgpack' ? { bin: new Uint8Array(randomBytes(1000 + i)) } : {}) };
      });
      const got = await Promise.all(values.map((v) => p.call(v)));
      await Promise.all(values.map((v) => p.call(v))); // the scratch array is reused meanwhile
      values.forEach((v, i) => expect([format, i, isDeepStrictEqual(got[i], v)]).toEqual([format, i, true]));
    }
  });

});

describe('a large failure message', () => {
  beforeAll(ensureNative);
  afterEach(unloadAll);

  it('reaches the caller in full, on the pool and on the event loop, in raw and string formats', async () => {
    const long = 'x'.repeat(100_000);
    for (const blocking of [true, false]) {
      for (const format of ['raw', 'string'] as const) {
        const p = loadFfi('tresty_test_fnlib', null, { searchPath, kind: 'function', symbol: 'tresty_test_fail', blocking, format });
        await expect(p.call(long)).rejects.toMatchObject({ code: 'TRESTY_ERR_FFI_RUNTIME', runtimeMessage: `refused '${long}'` });
      }
    }
  });
});
