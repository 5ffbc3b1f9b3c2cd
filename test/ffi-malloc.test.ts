// The host keeps the malloc heap of a process that uses FFI (native/host/host_env.h, tune_malloc,
// run when the host is loaded with the first plugin of any kind): a block of up to 4 MB comes
// from the heap instead of its own mmap, so large requests and answers reuse warm pages instead
// of faulting in fresh ones. Seen from outside: after a plugin is loaded and called, a 3 MB
// malloc'ed chunk is not one glibc mapped for itself (IS_MMAPPED, bit 1 of the chunk's size word,
// clear); with TRESTY_FFI_MALLOC_TUNE=0, or the user's own MALLOC_MMAP_THRESHOLD_, glibc's first
// threshold (128 KB) maps it on its own. For a runtime (the ring), a function on the pool, and a
// function called on the event loop (`blocking off`, the zero-hop path, which makes no queue). A
// fresh process each (the thresholds are the process's).
// The chunk's own bit, not its address below sbrk(0): another mapping can sit right at the end of
// the brk heap (a 512 MB rwx reservation, V8's code range by its look, which V8 places near
// node's text: 2 processes in 300, pool and zero-hop cases, whatever the load), and glibc then
// grows the main arena with mmap'ed memory outside brk; those chunks are still the heap's, reused
// after free. The last case blocks the brk on purpose to prove it.
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
  const mmap = libc.func('void *mmap(void *, size_t, int, int, int, long)');
  const mapped = (b) => (BigInt(koffi.decode(b, -8, 'uint64_t')) & 2n) !== 0n; // IS_MMAPPED
  const blocked = process.env.TEST_BLOCK_BRK === '1';
  if (blocked) {
    // A page of our own right at the end of the brk heap (MAP_FIXED_NOREPLACE: fails rather than
    // replace anything), so that the heap cannot grow there.
    const end = (BigInt(sbrk(0)) + 4095n) & ~4095n;
    const got = BigInt.asIntN(64, BigInt(mmap(end, 4096, 0, 0x22 | 0x100000, -1, 0)));
    // -1 (EEXIST): something is mapped there already (V8 puts its code range where it likes),
    // which blocks the heap just as well; any other address means the kernel ignored the flag.
    const { readFileSync } = await import('node:fs');
    const taken = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').some((l) => {
      const [a, z] = l.split(' ')[0].split('-').map((h) => BigInt('0x' + (h || '0')));
      return a <= end && end < z;
    });
    if (got !== end && !(got === -1n && taken())) throw new Error('cannot block the brk');
  }
  // 3 MB: under the host's 4 MB threshold, and above what the process frees early on. glibc raises
  // its own threshold to the size of a mapped block freed, so with a smaller block a pool thread's
  // start-up could put it in the heap without the host's tuning (seen once under load).
  let b = BigInt(malloc(3 << 20));
  // Blocked: the first blocks may still fit in the heap's free top; go on (kept, not freed) until
  // one lies past the brk, where the arena had to map room for it.
  for (let i = 0; blocked && b < BigInt(sbrk(0)) && i < 40; i++) b = BigInt(malloc(3 << 20));
  if (blocked && b < BigInt(sbrk(0))) throw new Error('no block past the blocked brk');
  console.log(mapped(b) ? 'mmap' : 'heap');
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

  it('a block past a brk heap that cannot grow is still the heap\'s, not its own mmap', async () => {
    expect(await where(PLUGINS['function on the pool'], { TEST_BLOCK_BRK: '1' })).toBe('heap');
    expect(await where(PLUGINS['function on the pool'], { TEST_BLOCK_BRK: '1', TRESTY_FFI_MALLOC_TUNE: '0' })).toBe('mmap');
  }, 60_000);
});
