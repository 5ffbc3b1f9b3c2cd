// Function libraries: plain C functions run on the piscina pool (dist/workers/ffi-pool-thread.js,
// built by `npm test`), whose threads wait on the submit ring with Atomics.wait.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadFfi, unloadAll } from '../src/ffi/index.js';
import { ensureNative, testRuntimes } from './ffi-helpers.js';

const searchPath = [testRuntimes];
const fn = (symbol: string, format: 'raw' | 'string' = 'string') =>
  loadFfi('tresty_test_fnlib', null, { searchPath, kind: 'function', symbol, format });

describe('ffi function plugins', () => {
  beforeAll(ensureNative);
  afterEach(unloadAll);

  it('calls a C function off the event loop', async () => {
    expect(await fn('tresty_test_upper').call('hello')).toBe('HELLO');
    expect(await fn('tresty_test_echo').call('')).toBe('');
  });

  it('rejects rc != 0 with the message', async () => {
    await expect(fn('tresty_test_fail').call('x')).rejects.toMatchObject({
      code: 'TRESTY_ERR_FFI_RUNTIME', rc: 4, runtimeMessage: "refused 'x'",
    });
  });

  it('carries 1 MB and many concurrent calls', async () => {
    const raw = fn('tresty_test_echo', 'raw');
    const b = randomBytes(1024 * 1024);
    expect(Buffer.compare(Buffer.from((await raw.call(b)) as Uint8Array), b)).toBe(0);
    const up = fn('tresty_test_upper');
    const got = await Promise.all(Array.from({ length: 5000 }, (_, i) => up.call(`m${i}`)));
    got.forEach((g, i) => expect(g).toBe(`M${i}`));
  });

  it('drains on unload and refuses calls after', async () => {
    const p = fn('tresty_test_upper');
    const pending = Array.from({ length: 200 }, (_, i) => p.call(`u${i}`));
    const unloaded = p.unload();
    await expect(p.call('late')).rejects.toMatchObject({ code: 'TRESTY_ERR_FFI_UNLOADED' });
    expect(await Promise.all(pending)).toEqual(Array.from({ length: 200 }, (_, i) => `U${i}`));
    await unloaded;
    await expect(p.call('after')).rejects.toMatchObject({ code: 'TRESTY_ERR_FFI_UNLOADED' });
  });

  it('stops idle pool loops and starts them again on the next call', async () => {
    const p = fn('tresty_test_upper');
    expect(await p.call('a')).toBe('A');
    await new Promise((r) => setTimeout(r, 700)); // longer than the loops' idle time
    expect(await p.call('b')).toBe('B');
  });

  it('lets a process that used plugins exit without unloading them', async () => {
    const dist = new URL('../dist/src/ffi/index.js', import.meta.url).href;
    const script = `const { loadFfi } = await import(${JSON.stringify(dist)});
      const sp = [${JSON.stringify(testRuntimes)}];
      const f = loadFfi('tresty_test_fnlib', null, { searchPath: sp, kind: 'function', symbol: 'tresty_test_upper' });
      const r = loadFfi('tresty_test_echo', null, { searchPath: sp });
      console.log(await f.call('x'), await r.call('y'));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
    expect(stdout.trim()).toBe('X y');
  });
});

// The zero-hop path: `blocking off` (blocking: false) calls the function on the event loop itself.
describe('ffi function plugins on the event loop (blocking off)', () => {
  beforeAll(ensureNative);
  afterEach(unloadAll);
  const inline = (symbol: string, format: 'raw' | 'string' = 'string') =>
    loadFfi('tresty_test_fnlib', null, { searchPath, kind: 'function', symbol, format, blocking: false });

  it('runs the function inside call(): no pool thread, no ring, no wake-up', async () => {
    const p = inline('tresty_test_upper');
    const info = () => (p as unknown as { debugInfo(): { calls: number; wakes: number; doorbells: number } }).debugInfo();
    const before = info().calls;
    const pending = p.call('abc');
    expect(info().calls).toBe(before + 1); // already ran, before any await
    expect(await pending).toBe('ABC');
    expect(info()).toMatchObject({ wakes: 0, doorbells: 0 });
    expect(p.inFlight).toBe(0);
  });

  it('carries empty, 64 KB-edge and 1 MB payloads, and rc != 0 as for the pool', async () => {
    const raw = inline('tresty_test_echo', 'raw');
    for (const n of [0, 1, 65535, 65536, 65537, 1024 * 1024]) {
      const b = randomBytes(n);
      const got = (await raw.call(b)) as Uint8Array;
      expect([n, Buffer.compare(Buffer.from(got), b)]).toEqual([n, 0]);
    }
    // a string sent to a raw plugin is taken as UTF-8 (docs/ffi.md, "Formats")
    expect(Buffer.from((await raw.call('héllo')) as Uint8Array).toString()).toBe('héllo');
        // answers are copies: a later call must not change an earlier answer
    const a = (await raw.call(Buffer.from('first'))) as Uint8Array;
    await raw.call(Buffer.from('other'));
    expect(Buffer.from(a).toString()).toBe('first');
    await expect(inline('tresty_test_fail').call('x')).rejects.toMatchObject({
      code: 'TRESTY_ERR_FFI_RUNTIME', rc: 4, runtimeMessage: "refused 'x'",
    });
  });

  it('writes a string request straight into its buffer: UTF-8, grown as needed, NUL after each', async () => {
    const p = inline('tresty_test_echo');
    for (const n of [1, 1365, 1366, 5000, 40000, 3]) { // 3 bytes a unit: 1366 and up outgrow the first 4 KB
      const s = '€éa'.repeat(n).slice(0, n);
      expect(await p.call(s)).toBe(s);
    }
    // tresty_test_big reads its request as a C string: a short one after a long one must end at
    // its own NUL; a 100 KB answer comes as a heap block, the next small one from the buffer again.
    const big = inline('tresty_test_big');
    expect(((await big.call('100000')) as string).length).toBe(100000);
    expect(await big.call('5')).toBe('bbbbb');
    await expect(inline('tresty_test_upper').call(42)).rejects.toMatchObject({ code: 'TRESTY_ERR_FFI_ENCODE' });
  });

  it('is refused for a runtime library (it has its own threads)', () => {
    expect(() => loadFfi('tresty_test_echo', null, { searchPath, blocking: false })).toThrow(/blocking off is for kind function/);
  });

  it('refuses calls after unload', async () => {
    const p = inline('tresty_test_upper');
    await p.unload();
    await expect(p.call('late')).rejects.toMatchObject({ code: 'TRESTY_ERR_FFI_UNLOADED' });
  });
});
