// limit_req's leaky bucket counts as nginx's ngx_http_limit_req_module does: in whole thousandths
// of a request, what drained since the key's last request (rate * ms / 1000) rounded down. At 1r/m
// (16 thousandths a second) a gap of 63-124 ms drains exactly 1; fractions (resty.limit.req's
// way, and tresty's limit_req before) would drain 1.008-1.984. Run on the zone itself so that the
// gap is known to the millisecond: the calls are timed from outside, and a gap that may straddle
// a boundary is tried again with another key.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedDict } from '../src/shared/dict.js';
import { shdictAddon, type ZoneApi } from '../src/shared/native.js';
import { NO_SHDICT } from './helpers/shdict.js';

const seg = path.join(process.env.TRESTY_SHM_DIR ?? '/dev/shm', `tresty-leaky-whole-${process.pid}`);
let z: ZoneApi;
let d: SharedDict;

beforeAll(() => {
  if (NO_SHDICT) return;
  fs.rmSync(seg, { force: true });
  z = shdictAddon().create(seg, 1024 * 1024, 'leaky');
  d = new SharedDict('leaky', z);
});
afterAll(() => {
  if (NO_SHDICT) return;
  z.detach();
  fs.rmSync(seg, { force: true });
});

const RATE = 16; // 1r/m, as limit_req_zone makes it (1000 / 60 rounded down)

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a gap the clock sees whole */ }
}

/** Two counted requests ~85 ms apart on a fresh key: the second's excess, and the gap's bounds. */
function pair(key: string, whole: boolean): { excess: number; min: number; max: number } {
  const t0 = performance.now();
  d.leaky(key, RATE, Infinity, true, whole);
  const t1 = performance.now();
  spin(85);
  const t2 = performance.now();
  const [, excess] = d.leaky(key, RATE, Infinity, true, whole);
  const t3 = performance.now();
  // the zone's ms clock: each reading within 1 ms of the moment of its call
  return { excess, min: t2 - t1 - 1, max: t3 - t0 + 1 };
}

describe.skipIf(NO_SHDICT !== '')(`limit_req's whole thousandths${NO_SHDICT}`, () => {
  it('a gap of 63-124 ms at 1r/m drains exactly one thousandth: excess 999; fractions would not', () => {
    let checked = 0;
    for (let i = 0; i < 5 && checked === 0; i++) {
      const w = pair(`w${i}`, true);
      const f = pair(`f${i}`, false);
      if (w.min < 63 || w.max > 124 || f.min < 63 || f.max > 124) continue; // the load stretched a gap
      expect(w.excess).toBe(999);
      // resty.limit.req's fractions (tresty/limit keeps them): 1000 - 16 * gap / 1000
      expect(f.excess).toBeGreaterThan(998);
      expect(f.excess).toBeLessThan(999);
      checked++;
    }
    expect(checked).toBe(1);
  });

  it('the excess stays whole as it builds up, and is refused past the burst as nginx would', () => {
    const k = 'build';
    for (let i = 0; i < 5; i++) {
      const [ok, excess] = d.leaky(k, RATE, 4000, true, true);
      expect(ok).toBe(true);
      expect(Number.isInteger(excess)).toBe(true);
      spin(20);
    }
    const [ok, excess] = d.leaky(k, RATE, 4000, true, true);
    expect(ok).toBe(false);
    expect(Number.isInteger(excess)).toBe(true);
    expect(excess).toBeGreaterThan(4000);
  });
});
