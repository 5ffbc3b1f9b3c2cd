// bench/results/: latest.json (every section, for machines), latest.md (the same tables, for
// people) and ffi-vs-uds.svg. A run of some benchmarks (--only) replaces only their sections,
// so the files always hold the latest measurement of each, each with its own date and machine.
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { describeMachine } from './machine.mjs';
import { ffiChart } from './svg.mjs';
import { toMarkdown } from './table.mjs';
import { FFI_TARGETS } from './targets.mjs';

export const ORDER = ['ffi', 'ffi-busy', 'http', 'ring', 'python', 'proxy', 'tls'];
export const CHART = 'ffi-vs-uds.svg';

function writeAtomic(file, text) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function load(file) {
  if (!existsSync(file)) return { sections: {} };
  try {
    const j = JSON.parse(readFileSync(file, 'utf8'));
    return j && typeof j.sections === 'object' ? j : { sections: {} };
  } catch {
    return { sections: {} }; // a damaged file is replaced, not fatal
  }
}

/**
 * The blocks of Markdown `text` that start with a heading of exactly `level` (`## Title`), by title.
 * Runs with --out write their sections elsewhere, so the committed Markdown may hold sections that
 * latest.json lacks; a later run keeps those blocks instead of dropping them.
 */
export function blocks(text, level) {
  const mark = `${'#'.repeat(level)} `;
  const out = new Map();
  let title = null;
  let lines = [];
  const end = () => { if (title !== null) out.set(title, lines.join('\n').trimEnd()); };
  for (const line of text.split('\n')) {
    if (line.startsWith(mark)) {
      end();
      title = line.slice(mark.length).trim();
      lines = [line];
    } else if (title !== null) {
      lines.push(line);
    }
  }
  end();
  return out;
}

/**
 * The Markdown for every section; chartPath is how the Markdown file refers to the SVG. `kept`
 * (from blocks()) are earlier sections to carry over when all.sections has none of that title.
 */
export function markdown(all, chartPath = CHART, level = 2, kept = new Map()) {
  const parts = [];
  const titles = new Set(Object.values(all.sections).map((s) => s.title));
  for (const name of ORDER) {
    const sec = all.sections[name];
    if (!sec) continue;
    parts.push(`${'#'.repeat(level)} ${sec.title}`, '');
    parts.push(`Measured ${sec.date.slice(0, 19).replace('T', ' ')} UTC on ${sec.machine ? describeMachine(sec.machine) : 'an unrecorded machine'}.  `);
    parts.push(`Command: \`${sec.command}\``, '');
    if (sec.error) parts.push(`**Failed:** ${sec.error}`, '');
    for (const t of sec.tables ?? []) parts.push(toMarkdown(t, level + 1), '');
    if (name === 'ffi' && sec.cells?.length) parts.push(`![FFI/UDS calls/s ratio per payload](${chartPath})`, '');
  }
  for (const [title, text] of kept) if (!titles.has(title)) parts.push(text, '');
  return parts.join('\n');
}

/** Merges the new sections into dir's latest files and rewrites them; returns the paths. */
export function writeResults(dir, sections) {
  mkdirSync(dir, { recursive: true });
  const jsonFile = path.join(dir, 'latest.json');
  const all = load(jsonFile);
  for (const s of sections) all.sections[s.name] = s;
  all.updated = new Date().toISOString();
  const files = { json: jsonFile, md: path.join(dir, 'latest.md'), svg: null };
  const kept = existsSync(files.md) ? blocks(readFileSync(files.md, 'utf8'), 2) : new Map();
  writeAtomic(jsonFile, `${JSON.stringify(all, null, 2)}\n`);
  writeAtomic(files.md, `# tresty benchmark results\n\nThe method is in [bench/README.md](../README.md).\n\n${markdown(all, CHART, 2, kept)}`);
  if (all.sections.ffi) {
    files.svg = path.join(dir, CHART);
    writeAtomic(files.svg, ffiChart(all.sections.ffi, FFI_TARGETS));
  }
  return { files, all };
}

/** Replaces the text between the README's result markers with the latest tables. */
export function updateReadme(readme, all, chartPath) {
  if (!existsSync(readme)) return false;
  const text = readFileSync(readme, 'utf8');
  const start = '<!-- results:start -->';
  const end = '<!-- results:end -->';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return false;
  const md = markdown(all, chartPath, 3, blocks(text.slice(a + start.length, b), 3));
  writeAtomic(readme, `${text.slice(0, a + start.length)}\n\n${md}\n${text.slice(b)}`);
  return true;
}
