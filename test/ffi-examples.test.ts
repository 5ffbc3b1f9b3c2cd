// The example runtimes of native/runtimes (C, Rust, Go), written against the plain lua-resty-ffi
// ABI, load unmodified on the host and echo through the rings. A language whose toolchain is
// missing on this machine is skipped (native/runtimes/Makefile skips building it too).
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFfi, unloadAll } from '../src/ffi/index.js';
import { nativeDir } from './ffi-helpers.js';

const build = `${nativeDir}/build`;

describe('example runtimes on the host', () => {
  afterAll(unloadAll);
  for (const name of ['echo_c', 'echo_rust', 'echo_go']) {
    it.skipIf(!existsSync(`${build}/lib${name}.so`))(`${name} echoes small, empty and 1 MB payloads`, async () => {
      const p = loadFfi(name, null, { searchPath: [build], format: 'raw' });
      const big = new Uint8Array(1024 * 1024).map((_, i) => i * 7);
      expect(await p.call(Buffer.from('hi'))).toEqual(new Uint8Array(Buffer.from('hi')));
      expect(Buffer.compare(Buffer.from((await p.call(big)) as Uint8Array), big)).toBe(0);
      const many = await Promise.all(Array.from({ length: 1000 }, (_, i) => p.call(Buffer.from(`n${i}`))));
      many.forEach((m, i) => expect(Buffer.from(m as Uint8Array).toString()).toBe(`n${i}`));
    });
  }
});
