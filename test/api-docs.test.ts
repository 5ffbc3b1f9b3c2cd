// docs/api.md's phase table is the API_CONTEXTS table the guards use: every API is listed,
// with exactly the phases where it is allowed. The gateway's contexts (balancer_by_js,
// ssl_certificate_by_js) have their own table in docs/gateway.md, checked the same way.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_CONTEXTS, CTX } from '../src/api/context.js';

const GATEWAY = ['balancer', 'ssl_certificate'];

/** The rows of the first table whose header starts `| API |`: name -> mask over its columns. */
function table(file: string): { cols: string[]; rows: Map<string, number> } {
  const doc = readFileSync(new URL(`../docs/${file}`, import.meta.url), 'utf8');
  const lines = doc.split('\n');
  const head = lines.find((l) => l.startsWith('| API |'))!;
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
  return { cols, rows };
}

function bits(names: string[]): number {
  return names.reduce((m, n) => m | CTX[n as keyof typeof CTX], 0);
}

describe('docs/api.md phase table', () => {
  const { cols, rows } = table('api.md');
  const core = Object.keys(CTX).filter((k) => !GATEWAY.includes(k));

  it('has a column per context', () => {
    expect(cols).toEqual(core);
  });
  for (const [name, mask] of Object.entries(API_CONTEXTS)) {
    it(`${name} is listed with its phases`, () => {
      expect(rows.get(name)).toBe(mask & bits(core));
    });
  }
});

describe('docs/gateway.md contexts table', () => {
  const { cols, rows } = table('gateway.md');

  it('has a column per gateway context', () => {
    expect(cols).toEqual(GATEWAY);
  });
  for (const [name, mask] of Object.entries(API_CONTEXTS)) {
    it(`${name} is listed with its gateway contexts`, () => {
      expect(rows.get(name) ?? 0).toBe(mask & bits(GATEWAY));
    });
  }
});
