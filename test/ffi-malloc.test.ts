// The host keeps the malloc heap of a process that uses FFI (native/host/host_env.h, tune_malloc,
// run when the host is loaded with the first plugin of any kind): a block of up to 4 MB comes
// from the heap instead of its own mmap, so large requests and answers reuse warm pages instead
// of faulting in fresh ones. Seen from outside: after a plugin is loaded and called, a 3 MB malloc
// lies inside the brk heap; with TRESTY_FFI_MALLOC_TUNE=0, or the user's own
// MALLOC_MMAP_THRESHOLD_, glibc's first threshold (128 KB) maps it on its own. For a runtime (the
// ring), a function on the pool, and a function called on the event loop (`blocking off`, the
// zero-hop path, which makes no queue). A fresh process each (the thresholds are the process's).
// Needs dist/ (built by npm test).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureNative, nativeDir, testRuntimes } from './ffi-helpers.js';

const dist = new URL('../dist/src/ffi/index.js', import.meta.url).href;
const koffi = new URL('../node_modules/koffi/index.js', import.meta.url).href;

const PLUGINS = {
  runtime: `loadFfi('echo_c', null, { searchPath: [${JSON.stringify(`${nativeDir}/build`)}] })`,
  'function on the pool': `loadFfi('tresty_test_fnlib', null, { searchPath: [${JSON.stringify(testRuntimes)}], kind: 'function', symbol: 'tresty_test_echo' })`,
  'function on the event loop (zero-hop)': `loadFfi('tresty_test_fnlib', null, { searchPath: [${JSON.stringify(testRuntimes)}], kind: 'function', symbol: 'tresty_test_echo', blocking: false })`,
};

const script = (load: string) => `const { loadFfi } = await import(${JSON.stringify(dist)});
  const { default: koffi } = await import(${JSON.stringify(koffi)});
  const p = ${load};
  if (await p.call('x') !== 'x') throw new Error('echo');
  const libc = koffi.load('libc.so.6');
  const malloc = libc.func('void *malloc(size_t)'), free = libc.func('void free(void *)');
  const sbrk = libc.func('void *sbrk(intptr_t)');
  // 3 MB: under the host's 4 MB threshold, and above what the process frees early on. glibc raises
  // its own threshold to the size of a mapped block freed, so with a smaller block a pool thread's
  // start-up could put it in the heap without the host's tuning (seen once under load).
  const b = BigInt(malloc(3 << 20)), brk = BigInt(sbrk(0));
  console.log(b < brk && brk - b < (1n << 30n) ? 'heap' : 'mmap');
  free(b);
  await p.unload();`;

async function where(load: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script(load)],
    { timeout: 20_000, env: { ...process.env, ...env } });
  return stdout.trim();
}

describe('ffi host: malloc thresholds', () => {
  beforeAll(ensureNative);

  for (const [kind, load] of Object.entries(PLUGINS)) {
    it(`${kind}: keeps blocks up to 4 MB in the heap once the plugin is loaded, unless told not to`, async () => {
      expect(await where(load, {})).toBe('heap');
      expect(await where(load, { TRESTY_FFI_MALLOC_TUNE: '0' })).toBe('mmap');
      expect(await where(load, { MALLOC_MMAP_THRESHOLD_: '131072' })).toBe('mmap'); // the user's own
    }, 60_000);
  }
});
