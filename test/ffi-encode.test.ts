// Strings are encoded into one reused buffer (formats.ts, encodeTransient): every call must still
// send its own bytes, whether it goes straight into a slot, waits in the backlog (more calls than
// ring slots), goes through the host's heap (large) or is over the reused buffer's limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFfi, unloadAll } from '../src/ffi/index.js';
import { ensureNative, nativeDir } from './ffi-helpers.js';

const searchPath = [`${nativeDir}/build`];

describe('string payloads encoded into a reused buffer', () => {
  beforeAll(ensureNative);
  afterAll(() => unloadAll());

  for (const format of ['string', 'raw'] as const) {
    it(`${format}: each of many calls in flight gets its own text back`, async () => {
      const p = loadFfi('echo_c', null, { format, maxQueue: 100_000, searchPath });
      const texts = Array.from({ length: 3000 }, (_, i) => `${i} é€😀 `.repeat(1 + (i % 7)));
      texts.push('x'.repeat(100_000), 'ü'.repeat(300_000), 'y'.repeat(1_200_000), '');
      const got = await Promise.all(texts.map((t) => p.call(t)));
      const dec = (v: unknown): string => (typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('utf8'));
      got.forEach((v, i) => {
        if (dec(v) !== texts[i]) expect.fail(`call ${i}: ${JSON.stringify(dec(v).slice(0, 40))} for ${JSON.stringify(texts[i]!.slice(0, 40))}`);
      });
    });
  }
});
