// The zone's binding on its own (one process, a real segment): what the conf layer assumes of
// it, and values larger than the binding's stack buffers.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DICT_MAX, SHARED_DICT_MIN } from '../src/config/directives-shared.js';
import { SharedDict } from '../src/shared/dict.js';
import { shdictAddon, type ShdictAddon, type ZoneApi } from '../src/shared/native.js';
import { NO_SHDICT } from './helpers/shdict.js';

const SHM = process.env.TRESTY_SHM_DIR ?? '/dev/shm';
const seg = path.join(SHM, `tresty-native-test-${process.pid}`);
let n: ShdictAddon;
let z: ZoneApi;
let d: SharedDict;

beforeAll(() => {
  if (NO_SHDICT) return;
  n = shdictAddon();
  fs.rmSync(seg, { force: true });
  z = n.create(seg, 4 * 1024 * 1024, 'native');
  d = new SharedDict('native', z);
});

afterAll(() => {
  if (NO_SHDICT) return;
  z.detach();
  fs.rmSync(seg, { force: true });
});

describe.skipIf(Boolean(NO_SHDICT))(`the shdict binding${NO_SHDICT}`, () => {
  it('has the bounds js_shared_dict checks', () => {
    expect(n.limits).toEqual({ minSize: SHARED_DICT_MIN, maxSize: SHARED_DICT_MAX });
  });

  it('refuses a zone out of bounds and a file that exists', () => {
    expect(() => n.create(`${seg}-small`, 1024, 'x')).toThrow(/Invalid argument/);
    expect(() => n.create(seg, 64 * 1024, 'x')).toThrow(expect.objectContaining({ code: 'TRESTY_ERR_SHDICT_ZONE' }));
    expect(() => n.attach(`${seg}-missing`)).toThrow(/No such file/);
  });

  it('keeps values larger than its stack buffers, and non-ASCII keys and values', () => {
    const big = 'é'.repeat(300_000);
    const key = 'ключ-'.repeat(200);
    expect(d.set(key, big)).toEqual([true, null, false]);
    expect(d.get(key)).toEqual([big, null]);
    expect(d.lpush('l', big)).toEqual([1, null]);
    expect(d.rpop('l')).toEqual([big, null]);
    expect(d.check()).toBeNull();
  });

  it('frees a list of 100000 elements and a flushed zone to the last byte', () => {
    d.flush_all();
    d.flush_expired();
    const free0 = d.free_space(); // empty: one free block, the whole heap
    for (let i = 0; i < 100_000; i++) d.rpush('long', i);
    expect(d.llen('long')).toEqual([100_000, null]);
    for (let i = 0; i < 1000; i++) d.set(`k${i}`, 'v'.repeat(i), i % 2 ? 0.001 : 0);
    d.delete('long');
    d.flush_all();
    d.flush_expired();
    expect(d.get_keys(0)).toEqual([]);
    expect(d.free_space()).toBe(free0); // every block merged back
    expect(d.check()).toBeNull();
    expect(d.stats()).toMatchObject({ entries: 0, recoveries: 0, rollbacks: 0, resets: 0 });
  });

  it('a segment attached twice in one process is one zone; a detached one throws', () => {
    const z2 = n.attach(seg);
    const d2 = new SharedDict('native', z2);
    d.set('both', 1);
    expect(d2.get('both')).toEqual([1, null]);
    z2.detach();
    expect(d.get('both')).toEqual([1, null]);
    expect(() => d2.get('both')).toThrow(expect.objectContaining({ code: 'TRESTY_ERR_SHDICT_ZONE', message: 'the zone was detached' }));
  });

  it('a successful store answers a shared, frozen result (no allocation)', () => {
    const r = d.set('frozen', 1);
    expect(r).toEqual([true, null, false]);
    expect(Object.isFrozen(r)).toBe(true);
    expect(d.set('frozen', 2)).toBe(r);
  });
});
