import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors.js';

// STYLE 7: every stable code is documented, and the docs name no code that does not exist.
describe('error codes', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Set(doc.match(/TRESTY_ERR_[A-Z0-9_]+/g) ?? []);

  for (const code of Object.keys(ErrorCodes)) {
    it(`${code} is documented in docs/errors.md`, () => {
      expect(documented.has(code)).toBe(true);
    });
  }

  it('docs/errors.md names only codes that exist', () => {
    const unknown = [...documented].filter((c) => !(c in ErrorCodes));
    expect(unknown).toEqual([]);
  });
});
