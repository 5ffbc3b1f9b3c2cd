// The four payload formats. A format belongs to the plugin, not to the call site.
// decode() takes bytes the caller owns; read() takes a range of a larger buffer, usually the
// ring's shared memory, and must copy whatever it keeps: the slot is reused once read() returns.
import { Packr, RESET_BUFFER_MODE } from 'msgpackr';
import { TrestyError } from '../errors.js';
import { bufferUtf8Slice, bufferUtf8Write } from './buffer-bindings.js';
import { NOT_READ, packInto, readAt, UNCOVERED_VALUE } from './msgpack.js';

export type FormatName = 'raw' | 'string' | 'json' | 'msgpack';

export interface Format {
  readonly name: FormatName;
  encode(v: unknown): Uint8Array;
  decode(b: Uint8Array): unknown;
  /** encode(), into bytes valid only until the next encode (the ring copies them at once). */
  encodeTransient?(v: unknown): Uint8Array;
  /** Decode src[start, end). shared: src is the ring's memory, so nothing may keep a view of it. */
  read(src: Uint8Array, start: number, end: number, shared: boolean): unknown;
}

/** UTF-8 text of b[start, end), without a leading BOM (as TextDecoder('utf-8') decodes). */
export function utf8Slice(b: Uint8Array, start: number, end: number): string {
  if (end - start >= 3 && b[start] === 0xef && b[start + 1] === 0xbb && b[start + 2] === 0xbf) start += 3;
  return bufferUtf8Slice.call(b, start, end);
}

// Copies out of the ring's shared memory. TypedArray#set from a view of exactly the answer is the
// cheapest copy there is (V8 copies shared memory word by word either way), but making that view
// cost as much as the copy: Buffer#copy makes one per call (and validates its arguments). So the
// last view made at each 1 KB slot offset is kept, with the memory it views, and an answer of the
// same length at the same place (answers of one size, the common case) reuses it. (A kept view
// keeps its memory alive: an unloaded plugin's ring until another answer lands at that offset.)
const SLOT_VIEWS = 4096;
const viewOf: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOT_VIEWS).fill(undefined);
const viewSrc: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOT_VIEWS).fill(undefined);
const viewAt = new Float64Array(SLOT_VIEWS);

/** src[start, end) copied to out at 0 (out holds at least end - start bytes). */
export function copyOut(src: Uint8Array, start: number, end: number, out: Uint8Array): void {
  const k = (start >>> 10) & (SLOT_VIEWS - 1);
  let v = viewOf[k];
  if (v === undefined || viewSrc[k] !== src || viewAt[k] !== start || v.length !== end - start) {
    v = new Uint8Array(src.buffer, src.byteOffset + start, end - start);
    viewOf[k] = v;
    viewSrc[k] = src;
    viewAt[k] = start;
  }
  out.set(v);
}

// raw answers are plain Uint8Arrays (as documented) carved from shared slabs, as
// Buffer.allocUnsafe does: one ArrayBuffer per answer (what slice() gives) costs ~4x the copy.
// Two sizes: up to 8 KB from 64 KB slabs; up to 128 KB from 1 MB slabs, where a fresh
// ArrayBuffer per answer was most of an answer's cost (10 KB: 5.1-5.4 µs against 1.8 µs carved,
// bench/README.md "Large answers"). 1 MB stays under the host's 4 MB mmap threshold: a slab that
// malloc maps afresh faults in every page (350 µs a 100 KB answer, measured with 4 MB slabs).
class Slabs {
  private slab: ArrayBuffer;
  private used = 0;
  constructor(private readonly size: number) {
    this.slab = fresh(size);
  }
  carve(n: number): Uint8Array {
    if (this.used + n > this.size) {
      this.slab = fresh(this.size);
      this.used = 0;
    }
    const u = new Uint8Array(this.slab, this.used, n);
    this.used = (this.used + n + 7) & ~7;
    return u;
  }
}
/** An uninitialised ArrayBuffer of exactly n bytes (new ArrayBuffer zero-fills it). */
function fresh(n: number): ArrayBuffer {
  return Buffer.allocUnsafeSlow(n).buffer as ArrayBuffer;
}
const small = new Slabs(64 * 1024);
const medium = new Slabs(1024 * 1024);

/** n uninitialised bytes (a plain Uint8Array): up to 128 KB carved from a shared slab. */
export function allocBytes(n: number): Uint8Array {
  if (n <= 8 * 1024) return small.carve(n);
  if (n <= 128 * 1024) return medium.carve(n);
  return new Uint8Array(fresh(n), 0, n);
}

// Large answers that are decoded at once (string, json, msgpack) are copied out of the host's
// heap into this reused array, not into a fresh one: its allocation cost more than the copy.
// Kept up to 1 MB; a larger answer gets an array of its own that is dropped after decoding.
const SCRATCH_KEEP = 1024 * 1024;
let answerScratch = new Uint8Array(64 * 1024);

/** Bytes for an answer decoded before the next call's: valid until then only. */
export function scratchBytes(n: number): Uint8Array {
  if (n <= answerScratch.length) return answerScratch;
  if (n > SCRATCH_KEEP) return new Uint8Array(fresh(n), 0, n);
  answerScratch = new Uint8Array(fresh(Math.min(SCRATCH_KEEP, Math.max(n, answerScratch.length * 2))));
  return answerScratch;
}

// Strings are encoded into one reused buffer (encodeTransient): Buffer.from(string) per call
// takes a slice of Node's 8 KB pool, a new pool ArrayBuffer every few calls, and from 4 KB up a
// new ArrayBuffer per call; their external memory made the worker's GC threads the busiest
// ones of an /echo-ffi run (bench/README.md, "where the time goes").
const ENC_MAX = 1 << 20; // larger strings get a buffer of their own (not kept)
let enc = Buffer.allocUnsafeSlow(64 * 1024);
export function utf8Transient(v: string): Uint8Array {
  const most = v.length * 3; // UTF-8 bytes per UTF-16 unit, at most
  if (most > enc.length) {
    if (most > ENC_MAX) return Buffer.from(v, 'utf8');
    enc = Buffer.allocUnsafeSlow(Math.min(ENC_MAX, Math.max(most, enc.length * 2)));
  }
  return enc.subarray(0, enc.write(v, 0, 'utf8'));
}

/** Strings go straight where a slot or a bound buffer holds them, with no transient bytes to copy. */
export const utf8Write = bufferUtf8Write;
/**
 * v as UTF-8 into dst at off when it fits in room bytes: the bytes written, or -1 (the bytes at
 * dst are then garbage). The same bytes as utf8Transient's (lone surrogates become U+FFFD).
 */
export function utf8Into(dst: Uint8Array, v: string, off: number, room: number): number {
  if (v.length > room) return -1;
  const n = utf8Write.call(dst, v, off, room);
  // A write cut short stops with under 4 bytes of room left (no character takes more), so a
  // shorter one is surely all of v; only near the end is the full length counted.
  return n <= room - 4 || Buffer.byteLength(v, 'utf8') === n ? n : -1;
}

const utf8 = new TextDecoder('utf-8');
// copyBuffers: msgpack bin values are copied, never views of the bytes they were decoded from.
const packr = new Packr({ useRecords: false, copyBuffers: true });

// msgpackr decodes a SharedArrayBuffer view ~10x slower than a plain one (6.5 against 0.6 µs
// for a 512 B record: its native string extractor refuses shared memory), so shared bytes that
// msgpack.ts leaves to it are first copied into the reused plain array of scratchBytes. A
// Uint8Array, not a Buffer, so bin values decode to Uint8Arrays.
const EMPTY = new Uint8Array(0);

function unpackAt(src: Uint8Array, start: number, end: number): unknown {
  try {
    // (msgpackr reads end 0 as "to the end of src")
    return packr.unpack(end > start ? src : EMPTY, { start: end > start ? start : 0, end }) as unknown;
  } catch (e) {
    throw new TrestyError('TRESTY_ERR_FFI_DECODE', `format msgpack: the response is not MessagePack: ${(e as Error).message}`);
  }
}

/** The value in src[start, end): msgpack.ts's reading, else msgpackr's (and its errors). */
function readMsgpack(src: Uint8Array, start: number, end: number): unknown {
  const v = readAt(src, start, end);
  if (v !== NOT_READ) return v;
  if (!(src.buffer instanceof SharedArrayBuffer)) return unpackAt(src, start, end);
  const n = end - start;
  const plain = scratchBytes(n);
  copyOut(src, start, end, plain);
  return unpackAt(plain, 0, n);
}

// msgpack.ts encodes into this reused buffer, grown to 1 MB at most; larger values and the ones
// it does not cover go to msgpackr.
let mpEnc = new Uint8Array(fresh(64 * 1024));
function msgpackTransient(v: unknown): Uint8Array | null {
  for (;;) {
    const n = packInto(v, mpEnc, 0, mpEnc.length);
    if (n >= 0) return mpEnc.subarray(0, n);
    if (n === UNCOVERED_VALUE || mpEnc.length >= ENC_MAX) return null;
    mpEnc = new Uint8Array(fresh(Math.min(ENC_MAX, mpEnc.length * 4)));
  }
}

function msgpackr(v: unknown, mode: number | undefined): Uint8Array {
  try {
    return packr.pack(v, mode);
  } catch (e) {
    throw bad('msgpack', `this value: ${(e as Error).message}`);
  }
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch (e) {
    throw new TrestyError('TRESTY_ERR_FFI_DECODE', `format json: the response is not JSON: ${(e as Error).message}`);
  }
}

function bad(format: FormatName, what: string): TrestyError {
  return new TrestyError('TRESTY_ERR_FFI_ENCODE', `format ${format} cannot encode ${what}`);
}

const formats: Record<FormatName, Format> = {
  raw: {
    name: 'raw',
    encode(v) {
      if (v instanceof Uint8Array) return v;
      if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      if (v instanceof ArrayBuffer) return new Uint8Array(v);
      if (typeof v === 'string') return Buffer.from(v, 'utf8'); // as docs/ffi.md says: taken as UTF-8
      throw bad('raw', `a ${typeof v} (pass a Uint8Array, a Buffer or a string)`);
    },
    encodeTransient(v) {
      return typeof v === 'string' ? utf8Transient(v) : formats.raw.encode(v);
    },
    decode: (b) => b,
    read(src, start, end, shared) {
      if (!shared) return start === 0 && end === src.length ? src : src.subarray(start, end);
      const out = allocBytes(end - start);
      copyOut(src, start, end, out);
      return out;
    },
  },
  string: {
    name: 'string',
    encode(v) {
      if (typeof v !== 'string') throw bad('string', `a ${typeof v} (pass a string)`);
      return Buffer.from(v, 'utf8');
    },
    encodeTransient(v) {
      if (typeof v !== 'string') throw bad('string', `a ${typeof v} (pass a string)`);
      return utf8Transient(v);
    },
    decode: (b) => utf8.decode(b),
    read: (src, start, end) => utf8Slice(src, start, end),
  },
  json: {
    name: 'json',
    encode(v) {
      let s: string | undefined;
      try {
        s = JSON.stringify(v);
      } catch (e) {
        throw bad('json', `this value: ${(e as Error).message}`);
      }
      if (s === undefined) throw bad('json', `a ${typeof v}`);
      return Buffer.from(s, 'utf8');
    },
    decode: (b) => parseJson(utf8.decode(b)),
    read: (src, start, end) => parseJson(utf8Slice(src, start, end)),
  },
  msgpack: {
    name: 'msgpack',
    encode(v) {
      const b = msgpackTransient(v);
      return b === null ? msgpackr(v, undefined) : Uint8Array.prototype.slice.call(b);
    },
    encodeTransient(v) {
      // RESET: msgpackr writes every call at the same place instead of moving on through its
      // buffer and allocating a new one every few KB.
      return msgpackTransient(v) ?? msgpackr(v, RESET_BUFFER_MODE);
    },
    decode: (b) => readMsgpack(b, 0, b.byteLength),
    read: (src, start, end) => readMsgpack(src, start, end),
  },
};

export function getFormat(name: string): Format {
  const f = (formats as Record<string, Format | undefined>)[name];
  if (!f) throw new TrestyError('TRESTY_ERR_API_ARGS', `unknown ffi format "${name}" (raw, string, json or msgpack)`);
  return f;
}
