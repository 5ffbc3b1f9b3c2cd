// One table model, two renderings: aligned text for the terminal, Markdown for results and README.
// A table is { title, columns: [{ key, label, align? }], rows: [{ [key]: string }], notes?: [] }.

function cell(row, col) {
  const v = row[col.key];
  return v === undefined || v === null ? '' : String(v);
}

export function toText(t) {
  const widths = t.columns.map((c) => Math.max(c.label.length, ...t.rows.map((r) => cell(r, c).length)));
  const fmt = (vals) => vals.map((v, i) => (t.columns[i].align === 'left' ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  const lines = [t.title, fmt(t.columns.map((c) => c.label)), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of t.rows) lines.push(fmt(t.columns.map((c) => cell(r, c))));
  for (const n of t.notes ?? []) lines.push(n);
  return lines.join('\n');
}

export function toMarkdown(t, level = 3) {
  const esc = (s) => s.replace(/\|/g, '\\|');
  const lines = [`${'#'.repeat(level)} ${t.title}`, ''];
  lines.push(`| ${t.columns.map((c) => esc(c.label)).join(' | ')} |`);
  lines.push(`| ${t.columns.map((c) => (c.align === 'left' ? '---' : '---:')).join(' | ')} |`);
  for (const r of t.rows) lines.push(`| ${t.columns.map((c) => esc(cell(r, c))).join(' | ')} |`);
  if (t.notes?.length) lines.push('', ...t.notes.map((n) => `${n}  `));
  return lines.join('\n');
}

// Number formats used by every table.
export const fmt = {
  rate: (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a'),
  ms: (x) => (Number.isFinite(x) ? (x < 1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x.toFixed(1)) : 'n/a'),
  ratio: (x) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a'),
  pct: (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : 'n/a'),
  bytes: (n) => (n >= 1024 && n % 1024 === 0 ? `${n / 1024} KB` : `${n} B`),
};
