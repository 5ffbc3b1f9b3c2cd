// The folders of src/ form layers that do not loop back (STYLE 15): no import cycle between any
// two folders, and the request core sits below the ngx API, which sits below the phase engine.
// Same rule as `node ../shared/tools/folder-cycles.mjs`, computed here so CI checks it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(m?ts|m?js)$/.test(n) && !n.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** folder -> folders it imports (relative imports only); a file at the top of a root is its own node. */
function folderGraph(roots: string[]): Map<string, Set<string>> {
  const abs = roots.map((r) => path.join(ROOT, r));
  const node = (f: string): string => path.relative(ROOT, abs.includes(path.dirname(f)) ? f : path.dirname(f));
  const g = new Map<string, Set<string>>();
  const re = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const f of abs.flatMap((d) => sources(d))) {
    for (const m of readFileSync(f, 'utf8').matchAll(re)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) continue;
      const target = path.normalize(path.join(path.dirname(f), spec)).replace(/\.js$/, '.ts');
      const from = node(f);
      const to = node(target);
      if (from === to) continue;
      if (!g.has(from)) g.set(from, new Set());
      g.get(from)!.add(to);
    }
  }
  return g;
}

/** Strongly connected components of more than one folder (Tarjan). */
function cycles(g: Map<string, Set<string>>): string[][] {
  let n = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, n); low.set(v, n); n++; stack.push(v); on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const c: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); c.push(w); } while (w !== v);
      if (c.length > 1) out.push(c.sort());
    }
  };
  for (const v of new Set([...g.keys(), ...[...g.values()].flatMap((s) => [...s])])) if (!idx.has(v)) visit(v);
  return out;
}

describe('layers of src/', () => {
  const g = folderGraph(['src', 'workers']);

  it('has no import cycle between folders', () => {
    expect(cycles(g)).toEqual([]);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const bad = new Map([['src/a', new Set(['src/b'])], ['src/b', new Set(['src/c'])], ['src/c', new Set(['src/a'])]]);
    expect(cycles(bad)).toEqual([['src/a', 'src/b', 'src/c']]);
  });

  it('keeps the request core below the ngx API and the API below the phase engine', () => {
    expect([...(g.get('src/request') ?? [])].filter((f) => f === 'src/api' || f === 'src/phases' || f === 'src/rack')).toEqual([]);
    expect([...(g.get('src/api') ?? [])].filter((f) => f === 'src/phases' || f === 'src/rack')).toEqual([]);
  });
});
