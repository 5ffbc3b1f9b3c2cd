import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRingMemory, SLOT_DATA, SLOT_LEN, submitPlace } from '../src/ring/layout.js';
import { Ring } from '../src/ring/ring.js';

// Random push/pop sequences against the simplest model: a bounded array queue.
describe('ring property', () => {
  it('behaves like a bounded FIFO for any sequence of pushes and pops', () => {
    const op = fc.oneof(
      fc.record({ push: fc.uint8Array({ maxLength: 16 }) }),
      fc.constant({ pop: true as const }),
    );
    fc.assert(
      fc.property(fc.constantFrom(2, 4, 8, 16), fc.array(op, { maxLength: 300 }), (cap, ops) => {
        const r = new Ring(createRingMemory(cap), submitPlace(cap));
        const dv = new DataView(r.sab);
        const model: Uint8Array[] = [];
        for (const o of ops) {
          if ('push' in o) {
            const off = r.claim();
            expect(off >= 0).toBe(model.length < cap);
            if (off < 0) continue;
            dv.setUint32(off + SLOT_LEN, o.push.length, true);
            r.u8.set(o.push, off + SLOT_DATA);
            r.publish(off);
            model.push(o.push);
          } else {
            const off = r.take();
            const want = model.shift();
            expect(off >= 0).toBe(want !== undefined);
            if (off < 0 || !want) continue;
            const len = dv.getUint32(off + SLOT_LEN, true);
            expect(r.u8.slice(off + SLOT_DATA, off + SLOT_DATA + len)).toEqual(want);
            r.release(off);
          }
          expect(r.size()).toBe(model.length);
          expect(r.isEmpty()).toBe(model.length === 0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
