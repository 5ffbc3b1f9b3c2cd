// docs/api.md's phase table is the API_CONTEXTS table the guards use: every API is listed,
// with exactly the phases where it is allowed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_CONTEXTS, CTX } from '../src/api/context.js';

describe('docs/api.md phase table', () => {
  const doc = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');
  const lines = doc.split('\n');
  const head = lines.find((l) => l.startsWith('| API | init |'))!;
  const cols = head.split('|').slice(2, -1).map((c) => c.trim());
  const rows = new Map<string, number>();
  for (const l of lines) {
    const m = /^\| `([^`]+)` \|(.*)\|$/.exec(l);
    if (!m || !m[2].includes('✓') && m[2].replace(/[|\s]/g, '') !== '') continue;
    const cells = m[2].split('|').map((c) => c.trim());
    if (cells.length !== cols.length) continue;
    let mask = 0;
    cells.forEach((c, i) => { if (c === '✓') mask |= CTX[cols[i] as keyof typeof CTX]; });
    rows.set(m[1], mask);
  }

  it('has a column per context', () => {
    expect(cols).toEqual(Object.keys(CTX));
  });
  for (const [name, mask] of Object.entries(API_CONTEXTS)) {
    it(`${name} is listed with its phases`, () => {
      expect(rows.get(name)).toBe(mask);
    });
  }
});
