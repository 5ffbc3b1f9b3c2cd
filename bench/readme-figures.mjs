#!/usr/bin/env node
// The README's benchmark tables, made from the last runs' results (bench/results/latest.json,
// written by bench/http.mjs and bench/ffi-vs-uds.mjs), so the README quotes exactly what was
// measured, with its date, and no figure is copied by hand.
// Usage: node bench/readme-figures.mjs           prints them
//        node bench/readme-figures.mjs --write   puts them between the README's figures markers
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt } from './lib/table.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = JSON.parse(fs.readFileSync(path.join(here, 'results/latest.json'), 'utf8')).sections;

const x = fmt.ratio;
// the tables' ±: half the spread of the per-round ratios (bench/http.mjs, ffi-vs-uds.mjs)
const pm = (spread) => (spread === null || spread === undefined ? '' : ` ±${fmt.pct(spread / 2)}`);
const rate = fmt.rate;
const row = (cells) => `| ${cells.join(' | ')} |`;
const when = (iso) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

function ratioOf(test, label) {
  const r = (test.ratios ?? []).find((q) => q.label === label);
  if (!r || r.skipped) return '';
  return `${x(r.value)}${pm(r.spread)}`;
}
const rowOf = (test, id) => test.rows.find((r) => r.id === id);
const cores = (r) => r.cpu.reduce((s, c) => s + c.share, 0);
const usPerReq = (r) => (cores(r) * 1e6 / r.rps).toFixed(1);

function httpTables(h) {
  const names = { hello: 'hello world (`ngx.say`)', chain: 'rewrite → access → content sharing `ngx.ctx`', static: 'a 1 KB static file from `root`' };
  const out = [];
  out.push(`HTTP: ${when(h.date)}, load average ${h.machine.loadavg[0]} at the start, ${h.machine.os}.`, '');
  out.push(row(['test', 'tresty native', 'tresty on node:http', 'bare node:http', 'nginx + lua', 'tresty / nginx+lua', 'tresty / bare node', 'CPU µs per request, tresty / nginx']));
  out.push(row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const t of h.perCore.tests) {
    const n = rowOf(t, 'native'), e = rowOf(t, 'node-engine'), b = rowOf(t, 'node'), g = rowOf(t, 'nginx');
    out.push(row([names[t.test] ?? t.test, `${rate(n.rps)} req/s`, rate(e.rps), b ? rate(b.rps) : '', g ? rate(g.rps) : '',
      `**${ratioOf(t, t.test === 'static' ? 'native / nginx' : 'native / nginx+lua')}**`, b ? ratioOf(t, 'native / bare node:http') : '',
      g ? `${usPerReq(n)} / ${usPerReq(g)}` : '']));
  }
  out.push('', 'With 2 workers each (`worker_processes auto`, `wrk -t1 -c64`): workers and `wrk` share the two cores, so every server is bound by the same CPU.', '');
  out.push(row(['test', 'tresty native', 'tresty on node:http', 'bare node:http cluster', 'nginx + lua', 'tresty / nginx+lua']));
  out.push(row(['---', '---:', '---:', '---:', '---:', '---:']));
  for (const t of h.tests.filter((q) => names[q.test])) {
    const b = rowOf(t, 'node'), g = rowOf(t, 'nginx');
    out.push(row([t.test === 'hello' ? 'hello world' : t.test === 'chain' ? 'the chain' : 'a 1 KB static file',
      `${rate(rowOf(t, 'tresty').rps)} req/s`, rate(rowOf(t, 'tresty-node').rps), b ? rate(b.rps) : '', g ? rate(g.rps) : '',
      ratioOf(t, t.test === 'static' ? 'tresty / nginx' : 'tresty / nginx+lua')]));
  }
  return out;
}

function echoTable(h) {
  const e5 = h.tests.find((t) => t.test === 'echo 512 B'), e10 = h.tests.find((t) => t.test === 'echo 10 KB');
  const status = (id) => h.echoTargets.find((t) => t.id === id)?.status;
  const both = (label) => [ratioOf(e5, label), ratioOf(e10, label)];
  const verdict = (a, b) => (a === 'met' && b === 'met' ? 'met' : a === 'met' ? 'met at 512 B' : b === 'met' ? 'met at 10 KB' : 'missed');
  const pollers = h.echoTargets.filter((t) => t.id === undefined && t.share !== undefined);
  const pct = (s) => `${(s * 100).toFixed(1)}%`;
  const out = [];
  out.push(row(['ratio of req/s (median of per-round ratios)', '512 B', '10 KB', 'target']));
  out.push(row(['---', '---:', '---:', '---']));
  const [a5, a10] = both('FFI / UDS');
  out.push(row(['`/echo-ffi` / `/echo-uds`', `**${a5}**`, `**${a10}**`, `≥ 1.3x: ${verdict(status('echo-512-uds'), status('echo-10k-uds'))}`]));
  const [b5, b10] = both('FFI / hello');
  out.push(row(['`/echo-ffi` / `GET /hello`', `**${b5}**`, `**${b10}**`, `≥ 0.9x: ${verdict(status('echo-512-hello'), status('echo-10k-hello'))}`]));
  out.push(row(['`/echo-fn` (zero hop) / `/echo-uds`', ...both('FFI zero hop / UDS'), `≥ 1.3x: ${verdict(status('echo-512-fn-uds'), status('echo-10k-fn-uds'))}`]));
  out.push(row(['`/echo-fn` / `GET /hello`', ...both('FFI zero hop / hello'), `≥ 0.9x: ${verdict(status('echo-512-fn-hello'), status('echo-10k-fn-hello'))}`]));
  out.push(row(['`/echo-js` (the body alone, no call) / `GET /hello`', ...both('no call / hello (the POST body alone)'), '(the ceiling for any `/echo`)']));
  out.push(row(['the same ceiling in nginx + lua (`read_body` + `ngx.print`)', ...both('nginx + lua: no call / hello (its POST body alone)'), '(OpenResty\'s own)']));
  if (pollers.length >= 3) {
    out.push(row(['pollers + pool threads, share of the machine under load', pct(pollers[0].share), pct(pollers[1].share), `< 3%: ${pollers[0].status === 'met' && pollers[1].status === 'met' ? 'met' : 'missed'}`]));
    out.push(row(['pollers + pool threads, idle', pct(pollers[2].share), pct(pollers[2].share), `0%: ${pollers[2].status}`]));
  }
  // The second server: workers bound, pollers real-time (ffi_poller_sched fifo), when it ran.
  const rt = [h.echoTargets.find((t) => t.id === 'echo 512 B-rt-pollers'), h.echoTargets.find((t) => t.id === 'echo 10 KB-rt-pollers')];
  if (rt[0] && rt[1]) {
    out.push(row(['with `worker_cpu_affinity auto; ffi_poller_sched fifo;`: `/echo-ffi` / `/echo-uds`', ...both('FFI, real-time pollers / UDS, workers bound'), `≥ 1.3x: ${verdict(status('echo-512-rt-uds'), status('echo-10k-rt-uds'))}`]));
    out.push(row(['the same server: `/echo-ffi` / `GET /hello`', ...both('FFI, real-time pollers / hello, workers bound'), `≥ 0.9x: ${verdict(status('echo-512-rt-hello'), status('echo-10k-rt-hello'))}`]));
    out.push(row(['the same server: pollers, share of the machine under load', pct(rt[0].share), pct(rt[1].share), `< 3%: ${rt[0].status === 'met' && rt[1].status === 'met' ? 'met' : 'missed'}`]));
  }
  const r = (id) => rate(rowOf(e5, id).rps);
  const rtRates = rt[0] ? `; workers bound and pollers real-time: \`/hello\` ${r('hello-rt')}, \`/echo-uds\` ${r('uds-rt')} and \`/echo-ffi\` ${r('ffi-rt')}` : '';
  out.push('', `req/s at 512 B: \`/hello\` ${r('hello')}, \`/echo-js\` ${r('js')}, \`/echo-fn\` ${r('fn')}, \`/echo-uds\` ${r('uds')} and \`/echo-ffi\` ${r('ffi')}${rtRates}.${crossing(h.host)}`);
  return out;
}

/** The host's cross-core cost a run recorded (bench/lib/xcore.mjs), as a sentence; '' if none. */
function crossing(host) {
  const a = host?.xcoreStart, b = host?.xcoreEnd;
  if (!a || a.error) return '';
  const end = b && !b.error ? ` and ${b.crossUs.toFixed(1)} at its end` : '';
  return ` A ${Math.round(a.bytes / 1024)} KB payload written on one core and read on the other took ${a.crossUs.toFixed(1)} µs at the run's start${end} (${a.sameUs.toFixed(1)} on one core; \`bench/xcore\`).`;
}

function ffiTable(f, busy) {
  const targets = { 'raw 512 1': 8, 'raw 512 64': 5, 'msgpack 512 64': 3, 'raw 102400 1': 4 };
  const out = [];
  out.push(`Plain process: ${when(f.date)}, load average ${f.machine.loadavg[0]} at the start${busy ? `; every core busy: ${when(busy.date)}` : ''}.${crossing(f.host)}`, '');
  out.push(row(['format', 'payload', 'in flight', 'FFI calls/s', 'UDS calls/s', 'FFI / UDS (spread)', 'target, quiet', 'FFI / UDS, every core busy (target ≥ 1.5x)']));
  out.push(row(['---', '---:', '---:', '---:', '---:', '---:', '---', '---:']));
  for (const c of f.cells) {
    const t = targets[`${c.format} ${c.size} ${c.inflight}`];
    const lat = (s) => (c.inflight === 1 ? ` (p50 ${s.p50Us.toFixed(1)} µs)` : '');
    const met = t === undefined ? '' : `≥ ${t}x: ${c.ratio >= t ? '**met**' : 'missed'}`;
    const b = busy?.cells.find((q) => q.format === c.format && q.size === c.size && q.inflight === c.inflight);
    const bs = b ? `${x(b.ratio)}${pm(b.ratioSpread)}${b.ratio >= 1.5 ? '' : ': missed'}` : '';
    const ratio = t !== undefined && c.ratio >= t ? `**${x(c.ratio)}**` : x(c.ratio);
    out.push(row([c.format, fmt.bytes(c.size), String(c.inflight), rate(c.ffi.rate) + lat(c.ffi), rate(c.uds.rate) + lat(c.uds), `${ratio} (${pm(c.ratioSpread).trim()})`, met, bs]));
  }
  if (busy) out.push('', `With every core busy, ${busy.cells.filter((q) => q.ratio >= 1.5).length} of ${busy.cells.length} cells reach 1.5x in this run.`);
  return out;
}

const blocks = {
  http: all.http ? httpTables(all.http) : null,
  echo: all.http ? echoTable(all.http) : null,
  ffi: all.ffi ? ffiTable(all.ffi, all['ffi-busy']) : null,
};

if (process.argv.includes('--write')) {
  const file = path.join(here, '../README.md');
  let text = fs.readFileSync(file, 'utf8');
  for (const [name, lines] of Object.entries(blocks)) {
    if (!lines) continue;
    const start = `<!-- figures:${name}:start -->`, end = `<!-- figures:${name}:end -->`;
    const a = text.indexOf(start), b = text.indexOf(end);
    if (a < 0 || b < a) throw new Error(`README.md has no ${start} ... ${end} block`);
    text = `${text.slice(0, a + start.length)}\n${lines.join('\n')}\n${text.slice(b)}`;
  }
  fs.writeFileSync(file, text);
} else {
  for (const [name, lines] of Object.entries(blocks)) if (lines) process.stdout.write(`<!-- ${name} -->\n${lines.join('\n')}\n\n`);
}
