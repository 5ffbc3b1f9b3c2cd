#!/usr/bin/env node
// Two builds of tresty side by side on plugin calls from a plain Node process: did a change to the
// FFI path cost or save calls/s and event-loop CPU per call?
//   node bench/ffi-ab.mjs --a /path/to/other/checkout [--b .] [--rounds 3] [--seconds 3]
//        [--cases 10240:raw:64,10240:string:64,102400:raw:1] [--timeout MS]
// Each case is payload bytes : format : calls in flight, against the echo_c runtime of each build
// (its own native/build and dist/). The builds take turns, one process per run, case after case,
// round after round; each ratio (b / a) is the median of the per-round ratios. CPU per call, from
// each thread's schedstat (bench/lib/threads.mjs): the event loop's ("loop"), the runtime's poller
// ("poll") and the whole process's ("proc": V8's helper threads too). --timeout is the plugin's
// per-call timeout (default 60000, the plugin default, as a handler's calls have; 0: none).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { abMain, loadavg as load } from './lib/ab-checkouts.mjs';
import { median } from './lib/stats.mjs';
import { cpuDelta, snapshot } from './lib/threads.mjs';

await abMain(import.meta.url,
  'usage: node bench/ffi-ab.mjs --a OTHER_CHECKOUT [--b CHECKOUT] [--rounds N] [--seconds S] [--cases BYTES:FORMAT:INFLIGHT,...] [--timeout MS]',
  { seconds: '3', timeout: '60000' },
  (root, spec, opt) => child(root, spec, Number(opt('seconds', 3)), Number(opt('timeout', 60000))),
  ({ A, B, opt, run }) => {
    const rounds = Number(opt('rounds', 3)), seconds = opt('seconds', '3'), timeout = opt('timeout', '60000');
    const cases = opt('cases', '10240:raw:64,10240:string:64,10240:msgpack:64,102400:raw:1,102400:string:1').split(',');
    table(A, B, cases, rounds, `${rounds} rounds of ${seconds} s, timeout ${timeout} ms`, run);
  });

/** Both builds, case after case, round after round: the table. */
function table(A, B, cases, rounds, what, run) {
  console.log(`a = ${A}\nb = ${B}\n${new Date().toISOString()}, ${what}, load ${load()}\n`);
  console.log('| case (bytes:format:in flight) | a calls/s | b calls/s | b / a (spread) | loop µs/call a / b | poll µs/call a / b | proc µs/call a / b (b / a) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const c of cases) {
    const ra = [], rb = [];
    for (let i = 0; i < rounds; i++) {
      ra.push(run(A, c));
      rb.push(run(B, c));
    }
    const ratios = ra.map((a, i) => rb[i].rate / a.rate);
    const spread = (Math.max(...ratios) - Math.min(...ratios)) / 2 / median(ratios);
    const m = (rs, k) => median(rs.map((r) => r[k]));
    const both = (k) => `${m(ra, k).toFixed(2)} / ${m(rb, k).toFixed(2)}`;
    const cpuRatio = median(ra.map((a, i) => rb[i].procUs / a.procUs));
    console.log(`| ${c} | ${Math.round(m(ra, 'rate')).toLocaleString('en')} | ${Math.round(m(rb, 'rate')).toLocaleString('en')} | ` +
      `${median(ratios).toFixed(2)}x ±${Math.round(spread * 100)}% | ${both('loopUs')} | ${both('pollUs')} | ${both('procUs')} (${cpuRatio.toFixed(2)}) |`);
  }
  console.log(`\n${new Date().toISOString()}, load ${load()}`);
}

/** One build, one case: warm up, then call for `seconds` and print { rate, loopUs, pollUs, procUs }. */
async function child(root, spec, seconds, timeoutMs) {
  const [bytes, format, inflight] = spec.split(':');
  const n = Number(bytes), k = Number(inflight);
  const { loadFfi } = await import(pathToFileURL(path.join(root, 'dist/src/ffi/index.js')).href);
  const p = loadFfi('echo_c', null, { searchPath: [path.join(root, 'native/build')], format, maxQueue: Math.max(64, k), timeoutMs });
  const payload = format === 'raw' ? Buffer.alloc(n, 7) : format === 'string' ? 'x'.repeat(n) : { s: 'x'.repeat(n) };
  const drive = async (ms) => {
    let calls = 0;
    const end = performance.now() + ms;
    await Promise.all(Array.from({ length: k }, async () => {
      while (performance.now() < end) { await p.call(payload); calls++; }
    }));
    return calls;
  };
  await drive(500);
  const t0 = snapshot([process.pid], { tree: false });
  const calls = await drive(seconds * 1000);
  const [me] = cpuDelta(t0, snapshot([process.pid], { tree: false }));
  const us = (pick) => (me.threads.filter(pick).reduce((a, t) => a + t.seconds, 0) * 1e6) / calls;
  process.stdout.write(JSON.stringify({
    rate: calls / seconds,
    loopUs: us((t) => t.name === me.comm),
    pollUs: us((t) => /poll/.test(t.name)),
    procUs: us(() => true),
  }));
  await p.unload();
  process.exit(0);
}
