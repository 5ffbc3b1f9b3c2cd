import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as L from '../src/ring/layout.js';
import { Ring } from '../src/ring/ring.js';

function ring(cap: number): Ring {
  return new Ring(L.createRingMemory(cap), L.submitPlace(cap));
}

function push(r: Ring, v: number): boolean {
  const off = r.claim();
  if (off < 0) return false;
  new DataView(r.sab).setUint32(off + L.SLOT_ID, v, true);
  r.publish(off);
  return true;
}

function pop(r: Ring): number | undefined {
  const off = r.take();
  if (off < 0) return undefined;
  const v = new DataView(r.sab).getUint32(off + L.SLOT_ID, true);
  r.release(off);
  return v;
}

describe('ring', () => {
  it('is empty when new and full at capacity', () => {
    const r = ring(4);
    expect(r.isEmpty()).toBe(true);
    expect(pop(r)).toBeUndefined();
    for (let i = 0; i < 4; i++) expect(push(r, i)).toBe(true);
    expect(push(r, 99)).toBe(false);
    expect(r.size()).toBe(4);
    expect(pop(r)).toBe(0);
    expect(push(r, 4)).toBe(true);
    expect([pop(r), pop(r), pop(r), pop(r), pop(r)]).toEqual([1, 2, 3, 4, undefined]);
    expect(r.isEmpty()).toBe(true);
  });

  it('wraps around many laps in order', () => {
    const r = ring(8);
    let next = 0;
    let expectNext = 0;
    for (let lap = 0; lap < 1000; lap++) {
      const n = (lap % 8) + 1;
      for (let i = 0; i < n; i++) expect(push(r, next++)).toBe(true);
      for (let i = 0; i < n; i++) expect(pop(r)).toBe(expectNext++);
    }
    expect(r.isEmpty()).toBe(true);
  });

  it('survives the u32 counters wrapping', () => {
    const cap = 4;
    const sab = L.createRingMemory(cap);
    const i32 = new Int32Array(sab);
    const start = 0xfffffffd | 0; // three steps before 2^32
    i32[L.SUB_TAIL >> 2] = start;
    i32[L.SUB_HEAD >> 2] = start;
    for (let p = 0; p < cap; p++) {
      const pos = (start + p) | 0;
      i32[(L.SUBMIT_OFFSET + (pos & (cap - 1)) * L.SLOT_SIZE) >> 2] = pos;
    }
    const r = new Ring(sab, L.submitPlace(cap));
    for (let i = 0; i < 20; i++) {
      expect(push(r, i)).toBe(true);
      expect(push(r, i + 100)).toBe(true);
      expect(pop(r)).toBe(i);
      expect(pop(r)).toBe(i + 100);
    }
    for (let i = 0; i < cap; i++) expect(push(r, i)).toBe(true);
    expect(push(r, 9)).toBe(false);
  });

  it('rejects capacities that are not powers of two', () => {
    expect(() => L.createRingMemory(3)).toThrow(RangeError);
    expect(() => L.createRingMemory(0)).toThrow(RangeError);
  });

  it('has the same layout as native/include/tresty_ring.h', () => {
    const header = readFileSync(new URL('../native/include/tresty_ring.h', import.meta.url), 'utf8');
    const defs = new Map<string, string>();
    for (const m of header.matchAll(/^#define (TR_\w+) (\S+)/gm)) defs.set(m[1]!, m[2]!);
    const plain = ['MAGIC', 'VERSION', 'CAPACITY', 'SLOT_BYTES', 'STATE', 'SUB_TAIL', 'SUB_HEAD', 'SUB_FUTEX',
      'SUB_SLEEPERS', 'POOL_ACTIVE', 'CMP_TAIL', 'CMP_HEAD', 'JS_WAITING', 'HEADER_BYTES', 'STATE_OPEN', 'STATE_CLOSING',
      'SLOT_SEQ', 'SLOT_ID', 'SLOT_RC', 'SLOT_LEN', 'SLOT_PTR', 'SLOT_DATA', 'MAX_RESPONSE', 'DOUBLE_ANSWERS', 'GATE_OPEN', 'SPINS',
      'SLOT_FLAG', 'FLAG_OK', 'FLAG_TOO_LARGE', 'FLAG_BAD_LENGTH'] as const;
    for (const name of plain) expect([name, Number(defs.get(`TR_${name}`)?.replace(/u$/, ''))]).toEqual([name, L[name]]);
    expect(Number(defs.get('TR_SLOT_SIZE'))).toBe(L.SLOT_SIZE);
    expect(Number(defs.get('TR_MAGIC_VALUE')?.replace(/u$/, ''))).toBe(L.MAGIC_VALUE);
    expect(Number(defs.get('TR_VERSION_VALUE')?.replace(/u$/, ''))).toBe(L.VERSION_VALUE);
  });
});
