// tresty's own MessagePack (src/ffi/msgpack.ts) must give exactly what msgpackr gives: for the
// values it covers, bytes msgpackr decodes to the same value and values equal to msgpackr's
// decoding; for the rest, it steps aside (and the msgpack format then uses msgpackr). Also read
// in place from shared memory, as answers in a ring slot are, and through real runtimes.
import { Packr } from 'msgpackr';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getFormat } from '../src/ffi/formats.js';
import { loadFfi, unloadAll } from '../src/ffi/index.js';
import { NOT_READ, packInto, readAt, UNCOVERED_VALUE } from '../src/ffi/msgpack.js';
import { ensureNative, testRuntimes } from './ffi-helpers.js';

const msgpackr = new Packr({ useRecords: false, copyBuffers: true });
const out = new Uint8Array(1 << 20);

function pack(v: unknown): Uint8Array {
  const n = packInto(v, out, 0, out.length);
  expect(n).toBeGreaterThanOrEqual(0);
  return out.slice(0, n);
}

function shared(b: Uint8Array, at = 7): Uint8Array {
  const s = new Uint8Array(new SharedArrayBuffer(b.length + 16));
  s.set(b, at);
  return s;
}

// A seeded generator of the values the codec covers, to sweep every length and form boundary.
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x80000000;
  };
}
const INTS = [0, 1, 31, 32, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53,
  -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, 1.5, -0.25, 1e300, Number.MAX_VALUE, NaN, Infinity, -Infinity];
function value(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth >= 2 ? 6 : 9)); // containers two deep at most: the sizes multiply
  switch (k) {
    case 0: return INTS[Math.floor(r() * INTS.length)];
    case 1: return r() < 0.5;
    case 2: return null;
    case 3: return 'aé✓😀x'.repeat(Math.floor(r() * 12)) + 'k'.repeat(Math.floor(r() * 300));
    case 4: return 'a'.repeat([0, 1, 10, 11, 31, 32, 85, 86, 255, 256, 21845, 21846, 65536][Math.floor(r() * (depth === 0 ? 13 : 10))]!);
    case 5: return Uint8Array.from({ length: [0, 3, 255, 256, 70000][Math.floor(r() * (depth === 0 ? 5 : 4))]! }, (_, i) => i & 255);
    case 6: return Array.from({ length: [0, 1, 15, 16, 17][Math.floor(r() * 5)]! }, () => value(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const n = [0, 1, 15, 16, 20][Math.floor(r() * 5)]!;
      for (let i = 0; i < n; i++) o[`k${i}${'é'.repeat(i % 3)}`] = value(r, depth + 1);
      return o;
    }
  }
}

describe('msgpack codec against msgpackr', () => {
  it('values it packs decode in msgpackr to what msgpackr packs and decodes', () => {
    const r = rng(42);
    for (let i = 0; i < 400; i++) {
      const v = value(r, 0);
      expect(msgpackr.unpack(pack(v))).toEqual(msgpackr.unpack(new Uint8Array(msgpackr.pack(v)))); // a Buffer would decode bin to Buffers
    }
  });

  it('reads what msgpackr packs, in place from shared memory, to what msgpackr reads', () => {
    const r = rng(7);
    for (let i = 0; i < 400; i++) {
      const b = msgpackr.pack(value(r, 0));
      const s = shared(b);
      const v = readAt(s, 7, 7 + b.length);
      expect(v).not.toBe(NOT_READ);
      expect(v).toEqual(msgpackr.unpack(new Uint8Array(b)));
    }
  });

  it('integers take msgpackr forms: 32-bit ints as ints, the rest as float64, -0 as 0', () => {
    for (const v of INTS) expect(Buffer.from(pack(v)).toString('hex')).toBe(Buffer.from(msgpackr.pack(v)).toString('hex'));
    expect(Buffer.from(pack(-0)).toString('hex')).toBe('00');
  });

  it('bin comes back as its own Uint8Array, not a view of the slot', () => {
    const s = shared(pack({ b: Uint8Array.of(1, 2, 3) }), 0);
    const v = readAt(s, 0, s.length - 16) as { b: Uint8Array };
    s.fill(0);
    expect(v.b).toEqual(Uint8Array.of(1, 2, 3));
    expect(v.b.buffer).not.toBeInstanceOf(SharedArrayBuffer);
  });

  it('steps aside for values it does not cover, which msgpackr encodes its own way', () => {
    class Point { x = 1; }
    for (const v of [undefined, { a: undefined }, [1, undefined], new Map([[1, 2]]), new Date(0), 10n, new Point(),
      JSON.parse('{"__proto__": 1}'), new Float32Array(2), () => 1, Symbol('s')]) {
      expect(packInto(v, out, 0, out.length)).toBe(UNCOVERED_VALUE);
    }
    const deep: unknown[] = [];
    let d = deep;
    for (let i = 0; i < 100; i++) d = (d[0] = []) as unknown[];
    expect(packInto(deep, out, 0, out.length)).toBe(UNCOVERED_VALUE);
  });

  it('leaves to msgpackr what it does not read: 64-bit ints, ext, other keys, truncated or trailing bytes', () => {
    const cases = [
      [0xcf, 0, 0, 0, 1, 0, 0, 0, 0], [0xd3, 0xff, 0, 0, 0, 0, 0, 0, 0], [0xd4, 0, 0], [0x81, 0x01, 0x02],
      [0x81, 0xa9, ...Buffer.from('__proto__'), 0x01], [0xa5, 0x61], [0x01, 0x02], [0x92, 0x01], [0xc1], [0xdc, 0xff, 0xff],
      [0xdb, 0xff, 0xff, 0xff, 0xff], [0xcb, 0, 0],
    ];
    for (const c of cases) {
      const s = shared(Uint8Array.from(c), 0);
      expect([c, readAt(s, 0, c.length)]).toEqual([c, NOT_READ]);
    }
  });

  it('answers -1 when the bytes do not fit, at any point of a value', () => {
    const v = { id: 1, s: 'é'.repeat(40), b: Uint8Array.of(1, 2), n: [1.5, 70000] };
    const full = pack(v).length;
    for (let max = 0; max < full; max++) expect([max, packInto(v, out, 0, max)]).toEqual([max, -1]);
    // a number asks room for its longest form (9 bytes) first, so the last one may need 8 more
    expect(packInto(v, out, 0, full + 8)).toBe(full);
    expect(packInto({ s: 'é'.repeat(40) }, out, 0, pack({ s: 'é'.repeat(40) }).length)).toBe(pack({ s: 'é'.repeat(40) }).length);
  });
});

describe('the msgpack format', () => {
  const f = getFormat('msgpack');

  it('decodes what it encodes, covered or not, as msgpackr does', () => {
    for (const v of [{ a: 1, s: 'x'.repeat(600) }, { u: undefined, d: new Date(0), m: new Map([['k', 1]]) }, [1n, 2.5]]) {
      const want = msgpackr.unpack(new Uint8Array(msgpackr.pack(v)));
      expect(f.decode(f.encode(v))).toEqual(want);
      expect(f.decode(Uint8Array.prototype.slice.call(f.encodeTransient!(v)))).toEqual(want);
      const b = f.encode(v);
      expect(f.read(shared(b), 7, 7 + b.length, true)).toEqual(want);
    }
  });

  it('encode() gives bytes of their own; encodeTransient() reuses its buffer', () => {
    const a = f.encode({ n: 1 });
    f.encode({ n: 2 });
    expect(msgpackr.unpack(a)).toEqual({ n: 1 });
  });

  it('reads a 64-bit integer through msgpackr (a BigInt), and reports garbage as before', () => {
    const b = Uint8Array.of(0xcf, 0, 0, 0, 1, 0, 0, 0, 0);
    expect(f.read(shared(b), 7, 7 + b.length, true)).toBe(4294967296n);
    expect(() => f.read(shared(Uint8Array.of(0xa5, 0x61)), 7, 9, true)).toThrow(/TRESTY_ERR_FFI_DECODE|not MessagePack/);
  });
});

describe('msgpack through a runtime', () => {
  beforeAll(ensureNative);
  afterEach(unloadAll);

  it('a ring and the event loop echo every shape, in flight together', async () => {
    const searchPath = [testRuntimes];
    const ring = loadFfi('tresty_test_echo', 'threads=2', { searchPath, format: 'msgpack' });
    const fn = loadFfi('tresty_test_fnlib', null, { searchPath, kind: 'function', symbol: 'tresty_test_echo', blocking: false, format: 'msgpack' });
    const r = rng(99);
    const vals = Array.from({ length: 120 }, () => value(r, 0));
    const want = vals.map((v) => msgpackr.unpack(new Uint8Array(msgpackr.pack(v))));
    expect(await Promise.all(vals.map((v) => ring.call(v)))).toEqual(want);
    expect(await Promise.all(vals.map((v) => fn.call(v)))).toEqual(want);
  });
});
