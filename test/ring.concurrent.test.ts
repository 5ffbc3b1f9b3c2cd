// The JS ring under real threads: 2 producers and 2 consumers (worker_threads) on one ring,
// every value delivered exactly once. Uses the compiled ring (dist/, built by `npm test`).
import { Worker } from 'node:worker_threads';
import { expect, it } from 'vitest';
import { createRingMemory, submitPlace } from '../src/ring/layout.js';

const ringUrl = new URL('../dist/src/ring/index.js', import.meta.url).href;
const N = 20_000; // values per producer

const code = `
const { workerData: w } = require('node:worker_threads');
import(${JSON.stringify(ringUrl)}).then(({ Ring, submitPlace, SLOT_ID }) => {
  const r = new Ring(w.sab, submitPlace(w.cap));
  const done = new Int32Array(w.done);
  if (w.role === 'produce') {
    for (let i = 0; i < w.n; i++) {
      let off;
      while ((off = r.claim()) < 0);
      r.i32[(off + SLOT_ID) >> 2] = w.base + i;
      r.publish(off);
    }
    Atomics.add(done, 0, 1);
  } else {
    const seen = new Uint8Array(w.seen);
    for (;;) {
      const off = r.take();
      if (off < 0) {
        if (Atomics.load(done, 0) === 2 && r.isEmpty()) break;
        continue;
      }
      const v = r.i32[(off + SLOT_ID) >> 2];
      r.release(off);
      Atomics.add(seen, v, 1);
    }
  }
});`;

it('delivers every value exactly once with 2 producers and 2 consumers', async () => {
  const cap = 16; // small, so full and empty happen often
  const sab = createRingMemory(cap);
  expect(submitPlace(cap).capacity).toBe(cap);
  const done = new SharedArrayBuffer(4);
  const seen = new SharedArrayBuffer(2 * N);
  const start = (data: object) => new Promise<void>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { sab, cap, done, seen, n: N, ...data } });
    w.on('error', reject);
    w.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`worker exit ${c}`))));
  });
  await Promise.all([
    start({ role: 'produce', base: 0 }), start({ role: 'produce', base: N }),
    start({ role: 'consume' }), start({ role: 'consume' }),
  ]);
  const counts = new Uint8Array(seen);
  expect(counts.every((c) => c === 1)).toBe(true);
});
