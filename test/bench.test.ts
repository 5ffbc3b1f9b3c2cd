// The benchmark harness, not the speed: a one-cell FFI-vs-UDS quick run writes well-formed
// JSON, Markdown and SVG into a temp folder, and the pure pieces (tables, targets, chart, the
// ring table parser) behave. No assertion here is about how fast anything is.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ffiChart } from '../bench/lib/svg.mjs';
import { toMarkdown, toText } from '../bench/lib/table.mjs';
import { checkFfi, checkHttp, FFI_TARGETS } from '../bench/lib/targets.mjs';
import { parseConsoleTable } from '../bench/lib/ring-runner.mjs';
import { updateReadme, writeResults } from '../bench/lib/results.mjs';
import { crossCore, describeCrossCore } from '../bench/lib/xcore.mjs';
import { withTempDir } from './helpers/temp-dir.js';

const root = path.resolve(import.meta.dirname, '..');
const built = ['native/build/libecho_c.so', 'native/build/tresty-uds-echo', 'dist/src/ffi/index.js']
  .filter((f) => !existsSync(path.join(root, f)));
const why = `not built: ${built.join(', ')} (run "npm run build" with make and a C compiler)`;
if (built.length) console.warn(`bench quick-run test skipped: ${why}`);

/** Well-formed XML, enough for our own SVG: balanced tags, escaped text, one root. */
function wellFormed(xml: string): string | null {
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let at = 0;
  let roots = 0;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const text = xml.slice(at, m.index);
    if (/[<>]/.test(text) || /&(?!(amp|lt|gt|quot|apos);)/.test(text)) return `bad text before offset ${m.index}: ${text.slice(0, 40)}`;
    at = m.index + m[0].length;
    const [, close, name, , self] = m;
    if (close) {
      if (stack.pop() !== name) return `</${name}> does not close the open tag at ${m.index}`;
    } else if (!self) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) {
      roots++;
    }
  }
  if (xml.slice(at).trim() !== '') return 'text after the root';
  if (stack.length) return `unclosed <${stack.at(-1)}>`;
  return roots === 1 ? null : `${roots} root elements`;
}

const sampleFfi = {
  title: 'sample', date: '2026-01-01T00:00:00.000Z', machine: { cores: 2, cpu: 'test cpu' },
  cells: [
    { format: 'raw', size: 512, inflight: 1, ratio: 9.5 },
    { format: 'raw', size: 512, inflight: 64, ratio: 0.8 },
    { format: 'msgpack', size: 102400, inflight: 1, ratio: 2 },
    { format: 'raw', size: 102400, inflight: 1, ratio: null },
  ],
};

describe('bench pieces', () => {
  it('checks targets as met, MISSED or not run', () => {
    const r = checkFfi(sampleFfi.cells as never);
    expect(r.map((t: { status: string }) => t.status)).toEqual(['met', 'MISSED', 'not run', 'not run']);
    const h = checkHttp([{ test: 'hello', vsNode: 0.96 }, { test: 'chain', vsNode: 0.5 }] as never);
    expect(h.map((t: { status: string }) => t.status)).toEqual(['met', 'MISSED']);
  });

  it('renders one table as text and Markdown', () => {
    const t = { title: 'T', columns: [{ key: 'a', label: 'a', align: 'left' }, { key: 'b', label: 'b|c' }], rows: [{ a: 'x', b: 1 }], notes: ['n'] };
    expect(toText(t).split('\n')).toEqual(['T', 'a  b|c', '-  ---', 'x    1', 'n']);
    expect(toMarkdown(t)).toContain('| a | b\\|c |\n| --- | ---: |\n| x | 1 |');
  });

  it('keeps the sections of earlier runs that latest.json lacks, and replaces the ones it writes', () => {
    withTempDir('tresty-bench-results-', (dir) => {
      // A run with --out elsewhere left its tables in latest.md and README but not in latest.json.
      writeFileSync(path.join(dir, 'latest.md'), '# tresty benchmark results\n\n## Old bench\n\nold table\n\n## Ring\n\nstale ring\n');
      const readme = path.join(dir, 'README.md');
      writeFileSync(readme, 'intro\n<!-- results:start -->\n\n### Old bench\n\nold table\n\n#### a sub-table\n\n<!-- results:end -->\ntail\n');
      const sec = { name: 'ring', title: 'Ring', date: '2026-12-01T00:00:00.000Z', command: 'x', tables: [] };
      const { all } = writeResults(dir, [sec]);
      const md = readFileSync(path.join(dir, 'latest.md'), 'utf8');
      expect(md).toContain('## Old bench\n\nold table');
      expect(md).not.toContain('stale ring');
      expect(md.match(/^## Ring$/gm)).toHaveLength(1);
      expect(updateReadme(readme, all, 'x.svg')).toBe(true);
      const text = readFileSync(readme, 'utf8');
      expect(text).toContain('### Old bench\n\nold table\n\n#### a sub-table');
      expect(text).toContain('### Ring');
      expect(text.startsWith('intro\n<!-- results:start -->')).toBe(true);
      expect(text.endsWith('<!-- results:end -->\ntail\n')).toBe(true);
    });
  });

  it('the README quotes the last runs\' figures as bench/readme-figures.mjs makes them from latest.json', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'bench/readme-figures.mjs')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const blocks = [...r.stdout.matchAll(/<!-- (\w+) -->\n([^]*?)\n\n(?=<!-- |$)/g)];
    expect(blocks.map((b) => b[1])).toEqual(['http', 'echo', 'ffi']);
    for (const [, name, text] of blocks) {
      const inReadme = new RegExp(`<!-- figures:${name}:start -->\\n([^]*?)\\n<!-- figures:${name}:end -->`).exec(readme);
      expect(inReadme?.[1], `README's ${name} figures (rerun: node bench/readme-figures.mjs --write)`).toBe(text);
    }
  });

  it('draws a well-formed chart, with or without measurements', () => {
    const svg = ffiChart(sampleFfi, FFI_TARGETS);
    expect(wellFormed(svg)).toBeNull();
    expect(svg).toContain('9.5');
    const empty = ffiChart({ ...sampleFfi, title: 'a < b & c', cells: [] }, FFI_TARGETS);
    expect(wellFormed(empty)).toBeNull();
    expect(empty).toContain('no FFI measurement');
  });

  it('parses the ring benchmark console.table', () => {
    const out = [
      '┌─────────┬──────────┬───────┐',
      "│ (index) │ benchmark │ ops/s │",
      '├─────────┼──────────┼───────┤',
      "│    0    │ 'ring a' │ 123   │",
      '└─────────┴──────────┴───────┘',
    ].join('\n');
    const t = parseConsoleTable(out)!;
    expect(t.columns.map((c: { label: string }) => c.label)).toEqual(['benchmark', 'ops/s']);
    expect(t.rows).toEqual([{ c1: 'ring a', c2: '123' }]);
  });
});

describe.skipIf(built.length > 0)(built.length ? `bench quick run (skipped: ${why})` : 'bench quick run', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'tresty-bench-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('ffi-vs-uds --quick for one cell writes JSON, Markdown and SVG', () => {
    const r = spawnSync(process.execPath, [
      path.join(root, 'bench', 'run.mjs'), '--only', 'ffi', '--quick',
      '--payloads', '512', '--formats', 'raw', '--inflight', '1', '--out', out,
    ], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('FFI/UDS');

    const json = JSON.parse(readFileSync(path.join(out, 'latest.json'), 'utf8'));
    const sec = json.sections.ffi;
    expect(sec.error).toBeUndefined();
    expect(sec.ffiError).toBeNull();
    expect(sec.cells).toHaveLength(1);
    const cell = sec.cells[0];
    expect(cell).toMatchObject({ format: 'raw', size: 512, bytes: 512, inflight: 1 });
    for (const side of [cell.ffi, cell.uds]) {
      expect(side.calls).toBeGreaterThan(0); // it measured something; how fast is not a test
      expect(Number.isFinite(side.p99Us)).toBe(true);
    }
    expect(sec.targets.map((t: { status: string }) => t.status)).toEqual(
      expect.arrayContaining(['not run']));
    for (const t of sec.targets) expect(['met', 'MISSED', 'not run']).toContain(t.status);
    expect(sec.machine.cores).toBeGreaterThan(0);
    // The host's cross-core cost, before and after the cells (a C compiler built the natives);
    // with one CPU to run on there is nothing to cross, and the figure says so.
    for (const x of [sec.host.xcoreStart, sec.host.xcoreEnd]) {
      if (os.availableParallelism() < 2) {
        expect(x.error).toBe('one core: nothing to cross');
        continue;
      }
      expect(x.error, x.error).toBeUndefined();
      expect(x.crossUs).toBeGreaterThan(0);
      expect(x.sameUs).toBeGreaterThan(0);
    }
    expect(r.stdout).toContain('Cross-core cost (bench/xcore): 100 KB written on one core and read on another took');

    const md = readFileSync(path.join(out, 'latest.md'), 'utf8');
    expect(md).toMatch(/^# tresty benchmark results/);
    expect(md).toContain('| format | payload | in flight | FFI calls/s');
    expect(md).toContain('![FFI/UDS calls/s ratio per payload](ffi-vs-uds.svg)');

    const svg = readFileSync(path.join(out, 'ffi-vs-uds.svg'), 'utf8');
    expect(wellFormed(svg)).toBeNull();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  }, 90_000);

  it('http --quick --tests hello measures every server with its threads\' CPU and records the cross-core cost', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tresty-bench-http-'));
    try {
      const r = spawnSync(process.execPath, [
        path.join(root, 'bench', 'run.mjs'), '--only', 'http', '--quick', '--tests', 'hello', '--out', dir,
      ], { cwd: root, encoding: 'utf8', timeout: 90_000 });
      expect(r.status, r.stderr).toBe(0);
      const sec = JSON.parse(readFileSync(path.join(dir, 'latest.json'), 'utf8')).sections.http;
      const hello = sec.tests.find((t: { test: string }) => t.test === 'hello');
      const tresty = hello.rows.find((x: { id: string }) => x.id === 'tresty');
      expect(tresty.rps).toBeGreaterThan(0); // it measured; how fast is not a test
      expect(tresty.cpu.length).toBeGreaterThan(0);
      for (const x of [sec.host.xcoreStart, sec.host.xcoreEnd]) {
        if (os.availableParallelism() < 2) expect(x.error).toBe('one core: nothing to cross');
        else expect(x.crossUs, x.error).toBeGreaterThan(0);
      }
      expect(sec.notes.join('\n')).toContain('Cross-core cost (bench/xcore): 100 KB written on one core and read on another took');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('gives the cross-core figure as an error value when there is no compiler', () => {
    const x = crossCore({ cc: 'tresty-no-such-cc', rounds: 1 });
    expect(x).toEqual({ bytes: 102400, error: 'tresty-no-such-cc not found: the cross-core figure needs a C compiler' });
    expect(describeCrossCore(x, x)).toContain('not measured (tresty-no-such-cc not found');
  });

  it('rejects an unknown benchmark name with exit code 2', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'bench', 'run.mjs'), '--only', 'nope'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown benchmark "nope"');
  });
});
