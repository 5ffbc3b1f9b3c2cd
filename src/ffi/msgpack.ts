// MessagePack for the plain values a handler sends and a runtime answers (maps with string keys,
// arrays, strings, numbers, booleans, nil, bin), written straight into a slot and read straight
// out of one. msgpackr stays the codec of record: any value this one does not cover (undefined,
// Map, Date, BigInt, class instances, ext types, 64-bit integers, non-string keys, an error) is
// handed to it whole, so results are msgpackr's in every case. Why not msgpackr alone: for a
// 512 B record it costs ~7x a UTF-8 write to pack and ~8x a UTF-8 read to unpack, and it cannot
// read shared memory without a copy first (bench/README.md, "MessagePack on the ring's path").
import { bufferUtf8Slice, bufferUtf8Write } from './buffer-bindings.js';

const MAX_DEPTH = 64;
// Thrown inside the codec, never out of this module: a value it does not cover, and no room left.
const UNCOVERED = new Error('msgpack: uncovered value');
const NO_ROOM = new Error('msgpack: no room');

// Floats go through a DataView of the whole buffer, kept while the buffer is the same one (the
// reused encode buffer, a ring's memory): one per call would cost more than the floats.
let wView: DataView = new DataView(new ArrayBuffer(8));
let wFor: Uint8Array | null = null;
let rView = wView;
let rFor: Uint8Array | null = null;
function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

const EMPTY = new Uint8Array(0);
let dst: Uint8Array = EMPTY;
let pos = 0;
let lim = 0;

function room(n: number): void {
  if (pos + n > lim) throw NO_ROOM;
}

function be32(v: number): void {
  dst[pos++] = (v >>> 24) & 0xff;
  dst[pos++] = (v >>> 16) & 0xff;
  dst[pos++] = (v >>> 8) & 0xff;
  dst[pos++] = v & 0xff;
}

function writeNumber(v: number): void {
  // As msgpackr: integers that fit 32 bits as ints, everything else as a float64. Room for the
  // longest form is asked first (one check, not one per form; near a slot's end this may send
  // the value to the heap path, never a different encoding).
  room(9);
  if (v >>> 0 === v) {
    if (v < 0x80) dst[pos++] = v;
    else if (v < 0x100) {
      dst[pos++] = 0xcc;
      dst[pos++] = v;
    } else if (v < 0x10000) {
      dst[pos++] = 0xcd;
      dst[pos++] = v >>> 8;
      dst[pos++] = v & 0xff;
    } else {
      dst[pos++] = 0xce;
      be32(v);
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) dst[pos++] = v & 0xff;
    else if (v >= -0x80) {
      dst[pos++] = 0xd0;
      dst[pos++] = v & 0xff;
    } else if (v >= -0x8000) {
      dst[pos++] = 0xd1;
      dst[pos++] = (v >> 8) & 0xff;
      dst[pos++] = v & 0xff;
    } else {
      dst[pos++] = 0xd2;
      be32(v);
    }
  } else {
    if (wFor !== dst) {
      wView = viewOf(dst);
      wFor = dst;
    }
    dst[pos] = 0xcb;
    wView.setFloat64(pos + 1, v);
    pos += 9;
  }
}

function writeString(s: string): void {
  // The header is chosen by the most bytes s can take, before writing (a longer header than
  // the shortest is still valid MessagePack); then as many bytes as there is room for.
  const len = s.length;
  if (len < 32) {
    // Short ASCII (keys, most values): a loop beats the call into C++; anything else goes on.
    room(1 + len);
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      dst[pos + 1 + i] = c;
    }
    if (i === len) {
      dst[pos] = 0xa0 | len;
      pos += 1 + len;
      return;
    }
  }
  const most = len * 3; // UTF-8 bytes per UTF-16 unit, at most
  const head = most < 32 ? 1 : most < 0x100 ? 2 : most < 0x10000 ? 3 : 5;
  room(head + len);
  const start = pos + head;
  const free = lim - start;
  const n = bufferUtf8Write.call(dst, s, start, free);
  // A write cut short stops with under 4 bytes left, so a shorter one is surely all of s.
  if (n > free - 4 && Buffer.byteLength(s, 'utf8') !== n) throw NO_ROOM;
  if (head === 1) dst[pos] = 0xa0 | n;
  else if (head === 2) {
    dst[pos] = 0xd9;
    dst[pos + 1] = n;
  } else if (head === 3) {
    dst[pos] = 0xda;
    dst[pos + 1] = n >>> 8;
    dst[pos + 2] = n & 0xff;
  } else {
    dst[pos++] = 0xdb;
    be32(n);
  }
  pos = start + n;
}

function writeLength(n: number, fix: number, fixMax: number, c16: number, c32: number): void {
  if (n < fixMax) {
    room(1);
    dst[pos++] = fix | n;
  } else if (n < 0x10000) {
    room(3);
    dst[pos++] = c16;
    dst[pos++] = n >>> 8;
    dst[pos++] = n & 0xff;
  } else {
    room(5);
    dst[pos++] = c32;
    be32(n);
  }
}

function writeValue(v: unknown, depth: number): void {
  switch (typeof v) {
    case 'string':
      return writeString(v);
    case 'number':
      return writeNumber(v);
    case 'boolean':
      room(1);
      dst[pos++] = v ? 0xc3 : 0xc2;
      return;
    case 'object':
      break;
    default:
      throw UNCOVERED; // undefined, bigint, function, symbol: msgpackr's business
  }
  if (v === null) {
    room(1);
    dst[pos++] = 0xc0;
    return;
  }
  if (depth >= MAX_DEPTH) throw UNCOVERED;
  if (Array.isArray(v)) {
    const n = v.length;
    writeLength(n, 0x90, 16, 0xdc, 0xdd);
    for (let i = 0; i < n; i++) writeValue(v[i], depth + 1);
    return;
  }
  if (v instanceof Uint8Array) {
    const n = v.length;
    if (n < 0x100) {
      room(2 + n);
      dst[pos++] = 0xc4;
      dst[pos++] = n;
    } else if (n < 0x10000) {
      room(3 + n);
      dst[pos++] = 0xc5;
      dst[pos++] = n >>> 8;
      dst[pos++] = n & 0xff;
    } else {
      room(5 + n);
      dst[pos++] = 0xc6;
      be32(n);
    }
    dst.set(v, pos);
    pos += n;
    return;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) throw UNCOVERED;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  writeLength(keys.length, 0x80, 16, 0xde, 0xdf);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k === '__proto__') throw UNCOVERED; // msgpackr renames it; let it
    writeString(k);
    writeValue(o[k], depth + 1);
  }
}

/** packInto's answer when the value is not one this codec covers: encode it with msgpackr. */
export const UNCOVERED_VALUE = -2;

/**
 * v as MessagePack into out[off, off + max): the bytes written, -1 when it does not fit, or
 * UNCOVERED_VALUE. out may be shared memory (a slot).
 */
export function packInto(v: unknown, out: Uint8Array, off: number, max: number): number {
  dst = out;
  pos = off;
  lim = off + max;
  try {
    writeValue(v, 0);
    return pos - off;
  } catch (e) {
    if (e === NO_ROOM) return -1;
    if (e === UNCOVERED) return UNCOVERED_VALUE;
    throw e;
  } finally {
    dst = EMPTY;
  }
}

// ---- reading ----

let src: Uint8Array = EMPTY;
let at = 0;
let end = 0;

function need(n: number): void {
  if (!(at + n <= end)) throw UNCOVERED; // NaN-safe; msgpackr reports the truncation
}

// Fixed-size reads are not bounds-checked one by one (past the end a typed array reads
// undefined, which these turn into 0 or NaN): readAt's check that it stopped exactly at the end
// catches any read past it, and lengths are checked before they are used.
function u8(): number {
  return src[at++]!;
}
function u16(): number {
  const v = (src[at]! << 8) | src[at + 1]!;
  at += 2;
  return v;
}
function u32(): number {
  const v = src[at]! * 0x1000000 + ((src[at + 1]! << 16) | (src[at + 2]! << 8) | src[at + 3]!);
  at += 4;
  return v;
}

function readString(n: number): string {
  need(n);
  const s = at;
  at += n;
  if (n < 16) {
    // Short ASCII keys and values: a loop beats the call into C++.
    let r = '';
    for (let i = s; i < at; i++) {
      const c = src[i]!;
      if (c >= 0x80) return bufferUtf8Slice.call(src, s, at);
      r += String.fromCharCode(c);
    }
    return r;
  }
  return bufferUtf8Slice.call(src, s, at);
}

// Map keys repeat from one answer to the next: a short ASCII key found here, checked byte by
// byte, costs no new string (what msgpackr's key cache saves too).
const KEYS = 1024;
const keyCache = new Array<string>(KEYS).fill('');

function readKey(n: number): string {
  if (n > 16) return readString(n);
  need(n);
  let h = n;
  for (let i = at; i < at + n; i++) h = (h * 31 + src[i]!) | 0;
  const slot = h & (KEYS - 1);
  const k = keyCache[slot]!;
  if (k.length === n) {
    let i = 0;
    while (i < n && k.charCodeAt(i) === src[at + i]) i++;
    if (i === n) {
      at += n;
      return k;
    }
  }
  const r = readString(n);
  if (r.length === n) keyCache[slot] = r; // ASCII only: one char per byte
  return r;
}

function readBin(n: number): Uint8Array {
  need(n);
  const out = new Uint8Array(n); // a copy: the source may be a slot that is reused
  out.set(src.subarray(at, at + n));
  at += n;
  return out;
}

function readArray(n: number, depth: number): unknown[] {
  need(n); // each element takes a byte at least
  const a = new Array<unknown>(n);
  for (let i = 0; i < n; i++) a[i] = readValue(depth + 1);
  return a;
}

function readMap(n: number, depth: number): Record<string, unknown> {
  need(n * 2);
  const o: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const c = u8();
    let k: string;
    if ((c & 0xe0) === 0xa0) k = readKey(c & 0x1f);
    else if (c === 0xd9) k = readString(u8());
    else if (c === 0xda) k = readString(u16());
    else throw UNCOVERED; // non-string keys: msgpackr's rules
    if (k === '__proto__') throw UNCOVERED;
    o[k] = readValue(depth + 1);
  }
  return o;
}

function readFloat(n: 4 | 8): number {
  need(n);
  if (rFor !== src) {
    rView = viewOf(src);
    rFor = src;
  }
  const o = at;
  at += n;
  return n === 8 ? rView.getFloat64(o) : rView.getFloat32(o);
}

function readValue(depth: number): unknown {
  if (depth > MAX_DEPTH) throw UNCOVERED;
  const c = u8();
  if (c < 0x80) return c;
  if (c >= 0xe0) return c - 0x100;
  if (c < 0x90) return readMap(c & 0x0f, depth);
  if (c < 0xa0) return readArray(c & 0x0f, depth);
  if (c < 0xc0) return readString(c & 0x1f);
  switch (c) {
    case 0xc0: return null;
    case 0xc2: return false;
    case 0xc3: return true;
    case 0xc4: return readBin(u8());
    case 0xc5: return readBin(u16());
    case 0xc6: return readBin(u32());
    case 0xca: return readFloat(4);
    case 0xcb: return readFloat(8);
    case 0xcc: return u8();
    case 0xcd: return u16();
    case 0xce: return u32();
    case 0xd0: return (u8() << 24) >> 24;
    case 0xd1: return (u16() << 16) >> 16;
    case 0xd2: return u32() | 0;
    case 0xd9: return readString(u8());
    case 0xda: return readString(u16());
    case 0xdb: return readString(u32());
    case 0xdc: return readArray(u16(), depth);
    case 0xdd: return readArray(u32(), depth);
    case 0xde: return readMap(u16(), depth);
    case 0xdf: return readMap(u32(), depth);
    default: throw UNCOVERED; // 64-bit integers, ext types, the unused 0xc1
  }
}

/** A value that means "decode these bytes with msgpackr instead". */
export const NOT_READ: unique symbol = Symbol('msgpack: not read');

/**
 * The one MessagePack value in b[start, stop), read in place (b may be shared memory: nothing
 * returned keeps a view of it), or NOT_READ when msgpackr must decide (an uncovered type,
 * truncated or trailing bytes, which msgpackr reports as errors).
 */
export function readAt(b: Uint8Array, start: number, stop: number): unknown {
  src = b;
  at = start;
  end = stop;
  try {
    const v = readValue(0);
    return at === stop ? v : NOT_READ;
  } catch (e) {
    if (e === UNCOVERED) return NOT_READ;
    throw e;
  } finally {
    src = EMPTY;
  }
}
