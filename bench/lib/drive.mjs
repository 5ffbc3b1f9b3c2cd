// A closed-loop load: `inflight` lanes each await one call at a time, so exactly that many calls
// are in flight until the time is up. Latency is measured per call on the caller's clock, as a
// handler would see it (encode, transport, native echo, decode, promise resolution).
import { isDeepStrictEqual } from 'node:util';
import { Samples } from './stats.mjs';

export async function drive(call, req, { inflight, durationMs }) {
  const samples = new Samples();
  let calls = 0;
  let stop = false;
  const t0 = performance.now();
  const end = t0 + durationMs;
  async function lane() {
    while (!stop) {
      const s = performance.now();
      await call(req);
      const e = performance.now();
      samples.add(e - s);
      calls++;
      if (e >= end) stop = true;
    }
  }
  await Promise.all(Array.from({ length: inflight }, lane));
  const elapsedMs = performance.now() - t0;
  return { calls, elapsedMs, rate: (calls * 1000) / elapsedMs, samples };
}

/** One call whose answer must equal the request: a broken side must not post a great number. */
export async function checkEcho(side, req) {
  const got = await side.call(req);
  const same = req instanceof Uint8Array
    ? got instanceof Uint8Array && Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(req.buffer, req.byteOffset, req.byteLength)) === 0
    : isDeepStrictEqual(got, req);
  if (!same) throw new Error(`${side.label} echo returned something else than it was sent`);
}

/**
 * The request for a payload size: raw is `size` bytes; msgpack is a small record whose encoding
 * is `size` bytes (within a byte or two), the shape a handler would really send.
 */
export function makeRequest(format, size, fmtObj) {
  if (format === 'raw') {
    const b = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) b[i] = (i * 31 + 7) & 255;
    return b;
  }
  const rec = (n) => ({ id: 123456, method: 'echo', user: 'bench', body: 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(n / 36)).slice(0, n) });
  let n = Math.max(0, size - fmtObj.encode(rec(0)).length);
  while (n > 0 && fmtObj.encode(rec(n)).length > size) n--;
  return rec(n);
}

export function encodedSize(req, fmtObj) {
  return fmtObj.encode(req).length;
}
