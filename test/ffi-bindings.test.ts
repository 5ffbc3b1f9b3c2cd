// bindings.ts declares every host export with a prototype string; they must say what
// native/include/tresty_host.h says (koffi's _Out_ markers aside).
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const norm = (s: string) => s.replace(/_Out_\s+/g, '').replace(/\s+/g, ' ').replace(/\s*([(),*])\s*/g, '$1').trim();

it('declares each tresty_* export exactly as the header does', () => {
  const header = readFileSync(new URL('../native/include/tresty_host.h', import.meta.url), 'utf8');
  const bindings = readFileSync(new URL('../src/ffi/bindings.ts', import.meta.url), 'utf8');
  const declared = new Map<string, string>();
  for (const m of header.matchAll(/^([\w ]+?\**\s*\**)(tresty_\w+)\(([^)]*)\);/gm)) declared.set(m[2]!, norm(`${m[1]}${m[2]}(${m[3]})`));
  const bound = [...bindings.matchAll(/f\('([^']+)'\)/g)].map((m) => norm(m[1]!));
  expect(bound.length).toBe(declared.size);
  for (const proto of bound) {
    const name = /(tresty_\w+)\(/.exec(proto)![1]!;
    expect(proto).toBe(declared.get(name));
  }
});
