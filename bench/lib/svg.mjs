// The FFI/UDS chart, written by hand (no chart library): one group of bars per payload size,
// one bar per format x calls-in-flight, height = FFI/UDS calls/s ratio on a linear axis, a
// dashed line at 1x (parity) and a tick at each issue target the cell has.

const W = 760;
const H = 440;
const M = { top: 56, right: 20, bottom: 84, left: 56 };
const COLORS = ['#1f77b4', '#aec7e8', '#d62728', '#ff9896', '#2ca02c', '#98df8a'];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const sizeLabel = (n) => (n >= 1024 && n % 1024 === 0 ? `${n / 1024} KB` : `${n} B`);

/** A rounded-up axis maximum and its tick step. */
function axis(max) {
  const steps = [0.5, 1, 2, 5, 10, 20, 50];
  const top = Math.max(1.5, max * 1.1);
  const step = steps.find((s) => top / s <= 8) ?? 100;
  return { top: Math.ceil(top / step) * step, step };
}

export function ffiChart(sec, targets = []) {
  const cells = sec.cells.filter((c) => Number.isFinite(c.ratio));
  const sizes = [...new Set(sec.cells.map((c) => c.size))].sort((a, b) => a - b);
  const series = [...new Set(sec.cells.map((c) => `${c.format} x${c.inflight}`))];
  const { top, step } = axis(Math.max(0, ...cells.map((c) => c.ratio), ...targets.map((t) => t.min)));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const y = (v) => M.top + ph - (v / top) * ph;
  const gw = pw / Math.max(1, sizes.length);
  const bw = Math.min(36, (gw * 0.8) / Math.max(1, series.length));
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<title>${esc(sec.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">FFI / UDS calls per second (higher is better for FFI)</text>`);
  out.push(`<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${esc(sec.date.slice(0, 16).replace('T', ' '))} UTC, ${esc(sec.machine ? `${sec.machine.cores} cores, ${sec.machine.cpu}` : '')}</text>`);
  for (let v = 0; v <= top + 1e-9; v += step) {
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${M.left}" y1="${yy}" x2="${W - M.right}" y2="${yy}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${v}x</text>`);
  }
  // Parity first, so the bars and their labels sit on top of it.
  const py = y(1).toFixed(1);
  out.push(`<line x1="${M.left}" y1="${py}" x2="${W - M.right}" y2="${py}" stroke="#333" stroke-dasharray="5,4"/>`);
  sizes.forEach((size, gi) => {
    const gx = M.left + gi * gw + (gw - bw * series.length) / 2;
    series.forEach((s, si) => {
      const c = cells.find((x) => x.size === size && `${x.format} x${x.inflight}` === s);
      const x = gx + si * bw;
      if (!c) return;
      const yy = y(c.ratio);
      out.push(`<rect x="${x.toFixed(1)}" y="${yy.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(M.top + ph - yy).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${s}, ${sizeLabel(size)}: ${c.ratio.toFixed(2)}x`)}</title></rect>`);
      // Above the parity line too, so a bar just under 1x keeps a readable label.
      const ty = Math.min(yy, y(1.12)) - 4;
      out.push(`<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${ty.toFixed(1)}" text-anchor="middle" font-size="10">${c.ratio.toFixed(1)}</text>`);
      const t = targets.find((tt) => tt.format === c.format && tt.size === size && tt.inflight === c.inflight);
      if (t) {
        const ty = y(t.min).toFixed(1);
        out.push(`<line x1="${(x - 2).toFixed(1)}" y1="${ty}" x2="${(x + bw).toFixed(1)}" y2="${ty}" stroke="#000" stroke-width="2"><title>${esc(`target ${t.min}x`)}</title></line>`);
      }
    });
    out.push(`<text x="${(M.left + gi * gw + gw / 2).toFixed(1)}" y="${M.top + ph + 18}" text-anchor="middle">${sizeLabel(size)}</text>`);
  });
  out.push(`<text x="${M.left + pw / 2}" y="${M.top + ph + 36}" text-anchor="middle" fill="#555">payload size; bars: format x calls in flight, each the median of its per-round ratios</text>`);
  out.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" y1="${M.top + ph}" x2="${W - M.right}" y2="${M.top + ph}" stroke="#333"/>`);
  // Legend: series colours, then the target tick.
  const ly = H - 16;
  let lx = M.left;
  const textW = (t) => t.length * 6.6; // about right for 12 px sans-serif
  series.forEach((s, si) => {
    const label = s;
    out.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="12" fill="${COLORS[si % COLORS.length]}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}">${esc(label)}</text>`);
    lx += 16 + textW(label) + 14;
  });
  out.push(`<line x1="${lx}" y1="${ly - 3}" x2="${lx + 14}" y2="${ly - 3}" stroke="#000" stroke-width="2"/>`);
  out.push(`<text x="${lx + 18}" y="${ly}">target</text>`);
  lx += 18 + textW('target') + 14;
  out.push(`<line x1="${lx}" y1="${ly - 3}" x2="${lx + 18}" y2="${ly - 3}" stroke="#333" stroke-dasharray="5,4"/>`);
  out.push(`<text x="${lx + 22}" y="${ly}">1x (parity)</text>`);
  if (cells.length === 0) out.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#a00">no FFI measurement in this run</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
