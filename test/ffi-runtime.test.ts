// Calls through real runtimes (native/test-runtimes), including every call-time failure.
import { randomBytes } from 'node:crypto';
import koffi from 'koffi';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FfiPlugin, loadFfi, unloadAll } from '../src/ffi/index.js';
import type { Plugin } from '../src/ffi/plugin.js';
import { INLINE_MAX } from '../src/ring/layout.js';
import { ensureNative, testRuntimes } from './ffi-helpers.js';

const searchPath = [testRuntimes];
const debug = (p: FfiPlugin) => (p as Plugin).debugInfo();

async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string; rc?: number; runtimeMessage?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected the call to fail');
}

describe('ffi runtime plugins', () => {
  beforeAll(ensureNative);
  afterEach(unloadAll);

  it('echoes in every format', async () => {
    const s = loadFfi('tresty_test_echo', null, { searchPath });
    expect(await s.call('héllo')).toBe('héllo');
    expect(await s.call('\uFEFFbom')).toBe('bom'); // a leading BOM is dropped, as TextDecoder does
    const j = loadFfi('tresty_test_echo', null, { searchPath, format: 'json' });
    expect(await j.call({ a: 1, b: ['x', null] })).toEqual({ a: 1, b: ['x', null] });
    const m = loadFfi('tresty_test_echo', null, { searchPath, format: 'msgpack' });
    expect(await m.call({ n: 2 ** 40, t: 'ü', bin: new Uint8Array([1, 2]) })).toEqual({ n: 2 ** 40, t: 'ü', bin: new Uint8Array([1, 2]) });
    const r = loadFfi('tresty_test_echo', null, { searchPath, format: 'raw' });
    expect(await r.call(new Uint8Array([0, 255, 7]))).toEqual(new Uint8Array([0, 255, 7]));
    const e = await rejection(s.call(42));
    expect(e.code).toBe('TRESTY_ERR_FFI_ENCODE');
  });

  it('carries 0-byte, inline-edge, 100 KB and 1 MB payloads, in every format', async () => {
    const r = loadFfi('tresty_test_echo', null, { searchPath, format: 'raw' });
    expect(await r.call(new Uint8Array(0))).toEqual(new Uint8Array(0));
    expect(await loadFfi('tresty_test_echo', null, { searchPath }).call('')).toBe('');
    // Inline in the slot up to INLINE_MAX, then a heap buffer: pooled (< 8 KB) and not.
    for (const size of [INLINE_MAX, INLINE_MAX + 1, 5000, 100 * 1024, 1024 * 1024]) {
      const b = randomBytes(size);
      const got = (await r.call(b)) as Uint8Array;
      expect(got).toBeInstanceOf(Uint8Array);
      expect(got.length).toBe(size);
      expect(Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), b)).toBe(0);
      const s = 'é'.repeat(size >> 1);
      expect(await loadFfi('tresty_test_echo', null, { searchPath }).call(s)).toBe(s);
      const m = { s, bin: new Uint8Array(b.subarray(0, size >> 2)) };
      expect(await loadFfi('tresty_test_echo', null, { searchPath, format: 'msgpack' }).call(m)).toEqual(m);
    }
    expect(debug(r).live).toBe(0);
  });

  it('answers 10,000 concurrent calls correctly', async () => {
    const p = loadFfi('tresty_test_echo', 'threads=2', { searchPath, format: 'json' });
    const n = 10_000;
    const got = await Promise.all(Array.from({ length: n }, (_, i) => p.call({ i, s: 'v'.repeat(i % 300) })));
    got.forEach((g, i) => expect(g).toEqual({ i, s: 'v'.repeat(i % 300) }));
    expect(p.inFlight).toBe(0);
    // msgpack encodes every call into the same bytes: those waiting in the backlog are copies.
    const m = loadFfi('tresty_test_echo', 'threads=2', { searchPath, format: 'msgpack' });
    const back = await Promise.all(Array.from({ length: 3000 }, (_, i) => m.call({ i, s: 'w'.repeat(i % 700) })));
    back.forEach((g, i) => expect(g).toEqual({ i, s: 'w'.repeat(i % 700) }));
  });

  it('rejects rc != 0 with the rc and the runtime message', async () => {
    const p = loadFfi('tresty_test_rcfail', null, { searchPath });
    const e = await rejection(p.call('abc'));
    expect(e.code).toBe('TRESTY_ERR_FFI_RUNTIME');
    expect(e.rc).toBe(3);
    expect(e.runtimeMessage).toBe("cannot handle 'abc'");
    expect(e.message).toContain("rc=3: cannot handle 'abc'");
  });

  it('answers queue full at once', async () => {
    const p = loadFfi('tresty_test_slow', 'q', { searchPath, maxQueue: 2 });
    const slow = [p.call('sleep:100'), p.call('sleep:100')];
    const t0 = performance.now();
    const e = await rejection(p.call('x'));
    expect(performance.now() - t0).toBeLessThan(50);
    expect(e.code).toBe('TRESTY_ERR_FFI_QUEUE_FULL');
    expect(await Promise.all(slow)).toEqual(['sleep:100', 'sleep:100']);
    expect(await p.call('x')).toBe('x');
  });

  it('times out, then frees the late response safely', async () => {
    const p = loadFfi('tresty_test_slow', 't', { searchPath, timeoutMs: 30 });
    // The answer comes 600 ms after the 30 ms timeout: a loaded machine that stalls the event loop
    // past both finds the answer and the timer ready at once, and I/O runs first (150 ms was not
    // enough under a full test run at load 10).
    const e = await rejection(p.call('sleep:600'));
    expect(e.code).toBe('TRESTY_ERR_FFI_TIMEOUT');
    expect(p.inFlight).toBe(1); // the runtime still holds it
    await vi.waitFor(() => {
      expect(p.inFlight).toBe(0);
      expect(debug(p)).toMatchObject({ live: 0, dropped: 0 });
    }, { timeout: 4000, interval: 10 });
    expect(await p.call('after', { timeoutMs: 1000 })).toBe('after');
  });

  it('frees a response that arrives after unload', async () => {
    const p = loadFfi('tresty_test_slow', 'late', { searchPath });
    const e = await rejection(p.call('sleep:100', { timeoutMs: 10 }));
    expect(e.code).toBe('TRESTY_ERR_FFI_TIMEOUT');
    await p.unload();
    await vi.waitFor(() => expect(debug(p)).toMatchObject({ live: 0, dropped: 1 }), { timeout: 2000, interval: 10 });
  });

  it('rejects an aborted call at once and frees its answer later', async () => {
    const p = loadFfi('tresty_test_slow', 'a', { searchPath });
    const ac = new AbortController();
    const call = p.call('sleep:80', { signal: ac.signal });
    ac.abort();
    expect((await rejection(call)).code).toBe('TRESTY_ERR_FFI_ABORTED');
    expect((await rejection(p.call('x', { signal: ac.signal }))).code).toBe('TRESTY_ERR_FFI_ABORTED');
    await vi.waitFor(() => expect(p.inFlight).toBe(0), { timeout: 2000, interval: 10 });
  });

  it('drains pending calls on unload, then poll returns NULL, then calls fail', async () => {
    const lib = koffi.load(`${testRuntimes}/libtresty_test_echo.so`);
    const exitedAddr = lib.symbol('tresty_test_echo_exited');
    const exited = () => koffi.decode(exitedAddr, 'int') as number;
    const before = exited();
    const p = loadFfi('tresty_test_echo', 'threads=3', { searchPath });
    const pending = Array.from({ length: 500 }, (_, i) => p.call(`p${i}`));
    const unloaded = p.unload();
    expect((await rejection(p.call('late'))).code).toBe('TRESTY_ERR_FFI_UNLOADED');
    expect(await Promise.all(pending)).toEqual(Array.from({ length: 500 }, (_, i) => `p${i}`));
    await unloaded;
    await vi.waitFor(() => expect(exited() - before).toBe(3), { timeout: 2000, interval: 5 });
    expect((await rejection(p.call('after'))).code).toBe('TRESTY_ERR_FFI_UNLOADED');
    // a fresh load is a fresh instance
    const again = loadFfi('tresty_test_echo', 'threads=3', { searchPath });
    expect(again).not.toBe(p);
    expect(await again.call('ok')).toBe('ok');
  });

  it('leaves a never-answered call counted, not crashed', async () => {
    const p = loadFfi('tresty_test_slow', 'n', { searchPath, timeoutMs: 20 });
    expect((await rejection(p.call('never'))).code).toBe('TRESTY_ERR_FFI_TIMEOUT');
    await vi.waitFor(() => expect(debug(p).live).toBe(1), { timeout: 2000, interval: 10 }); // held, not lost
    expect(await p.call('still fine')).toBe('still fine');
  });
});
