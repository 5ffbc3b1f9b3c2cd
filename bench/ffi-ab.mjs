#!/usr/bin/env node
// Two builds of tresty side by side on plugin calls from a plain Node process: did a change to the
// FFI path cost or save calls/s and event-loop CPU per call?
//   node bench/ffi-ab.mjs --a /path/to/other/checkout [--b .] [--rounds 3] [--seconds 3]
//        [--cases 10240:raw:64,10240:string:64,102400:raw:1]
// Each case is payload bytes : format : calls in flight, against the echo_c runtime of each build
// (its own native/build and dist/). The builds take turns, one process per run, case after case,
// round after round; each ratio (b / a) is the median of the per-round ratios. CPU is the event
// loop's thread only (/proc/self/task/PID/stat), the thread large answers cost.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './lib/stats.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };

if (opt('child')) {
  await child(path.resolve(opt('child')), opt('case'), Number(opt('seconds', 3)));
} else {
  const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  if (!opt('a')) {
    console.error('usage: node bench/ffi-ab.mjs --a OTHER_CHECKOUT [--b CHECKOUT] [--rounds N] [--seconds S] [--cases BYTES:FORMAT:INFLIGHT,...]');
    process.exit(2);
  }
  const A = path.resolve(opt('a')), B = path.resolve(opt('b', here));
  const rounds = Number(opt('rounds', 3)), seconds = opt('seconds', '3');
  const cases = opt('cases', '10240:raw:64,10240:string:64,10240:msgpack:64,102400:raw:1,102400:string:1').split(',');
  const run = (dir, c) => {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', dir, '--case', c, '--seconds', seconds], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${dir} ${c}: ${r.stderr || r.stdout}`);
    return JSON.parse(r.stdout);
  };
  console.log(`a = ${A}\nb = ${B}\n${new Date().toISOString()}, ${rounds} rounds of ${seconds} s, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
  console.log('| case (bytes:format:in flight) | a calls/s | b calls/s | b / a (spread) | a loop µs/call | b loop µs/call |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const c of cases) {
    const ra = [], rb = [];
    for (let i = 0; i < rounds; i++) {
      ra.push(run(A, c));
      rb.push(run(B, c));
    }
    const ratios = ra.map((a, i) => rb[i].rate / a.rate);
    const spread = (Math.max(...ratios) - Math.min(...ratios)) / 2 / median(ratios);
    const m = (rs, k) => median(rs.map((r) => r[k]));
    console.log(`| ${c} | ${Math.round(m(ra, 'rate')).toLocaleString('en')} | ${Math.round(m(rb, 'rate')).toLocaleString('en')} | ` +
      `${median(ratios).toFixed(2)}x ±${Math.round(spread * 100)}% | ${m(ra, 'loopUs').toFixed(2)} | ${m(rb, 'loopUs').toFixed(2)} |`);
  }
}

/** One build, one case: warm up, then call for `seconds` and print { rate, loopUs }. */
async function child(root, spec, seconds) {
  const [bytes, format, inflight] = spec.split(':');
  const n = Number(bytes), k = Number(inflight);
  const { loadFfi } = await import(pathToFileURL(path.join(root, 'dist/src/ffi/index.js')).href);
  const p = loadFfi('echo_c', null, { searchPath: [path.join(root, 'native/build')], format, maxQueue: Math.max(64, k) });
  const payload = format === 'raw' ? Buffer.alloc(n, 7) : format === 'string' ? 'x'.repeat(n) : { s: 'x'.repeat(n) };
  const ticks = () => {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  const drive = async (ms) => {
    let calls = 0;
    const end = performance.now() + ms;
    await Promise.all(Array.from({ length: k }, async () => {
      while (performance.now() < end) { await p.call(payload); calls++; }
    }));
    return calls;
  };
  await drive(500);
  const t0 = ticks();
  const calls = await drive(seconds * 1000);
  const hz = 100; // USER_HZ
  process.stdout.write(JSON.stringify({ rate: calls / seconds, loopUs: ((ticks() - t0) / hz) * 1e6 / calls }));
  await p.unload();
  process.exit(0);
}
