// The host keeps the malloc heap of a process that uses FFI (native/host/tresty_host.c,
// tune_malloc): a block of up to 4 MB comes from the heap instead of its own mmap, so large
// requests and answers reuse warm pages instead of faulting in fresh ones. Seen from outside: after
// a plugin is loaded, a 1 MB malloc lies inside the brk heap; with TRESTY_FFI_MALLOC_TUNE=0 glibc's
// first threshold (128 KB) maps it on its own. A fresh process each (the thresholds are the
// process's). Needs dist/ (built by npm test).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureNative, nativeDir } from './ffi-helpers.js';

const dist = new URL('../dist/src/ffi/index.js', import.meta.url).href;
const koffi = new URL('../node_modules/koffi/index.js', import.meta.url).href;
const script = `const { loadFfi } = await import(${JSON.stringify(dist)});
  const { default: koffi } = await import(${JSON.stringify(koffi)});
  const p = loadFfi('echo_c', null, { searchPath: [${JSON.stringify(`${nativeDir}/build`)}] });
  if (await p.call('x') !== 'x') throw new Error('echo');
  const libc = koffi.load('libc.so.6');
  const malloc = libc.func('void *malloc(size_t)'), free = libc.func('void free(void *)');
  const sbrk = libc.func('void *sbrk(intptr_t)');
  const b = BigInt(malloc(1 << 20)), brk = BigInt(sbrk(0));
  console.log(b < brk && brk - b < (1n << 30n) ? 'heap' : 'mmap');
  free(b);
  await p.unload();`;

async function where(env: Record<string, string>): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script],
    { timeout: 20_000, env: { ...process.env, ...env } });
  return stdout.trim();
}

describe('ffi host: malloc thresholds', () => {
  beforeAll(ensureNative);

  it('keeps blocks up to 4 MB in the heap once a plugin is loaded, unless told not to', async () => {
    expect(await where({})).toBe('heap');
    expect(await where({ TRESTY_FFI_MALLOC_TUNE: '0' })).toBe('mmap');
  }, 60_000);
});
