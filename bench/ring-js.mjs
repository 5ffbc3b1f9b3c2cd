#!/usr/bin/env node
// The ring's JS path alone: a plugin's Channel whose "runtime" is JS itself, answering every
// request inside send() (the channel's onPublish hook) by copying it into a completion slot. No
// poller thread, no wake-ups, no doorbell: the event loop's CPU per call is what plugin.call,
// the slot writes, the drain, the copies, the promise and the deadline queue cost, which is what
// bounds calls/s at 64 in flight (bench/README.md, "The ring's JS path, piece by piece"). The
// JS echo's own copy is in the figure too, the same on both sides.
//   node bench/ring-js.mjs --a OTHER_CHECKOUT [--b CHECKOUT] [--rounds 8] [--ms 1000]
//        [--cases raw:512:64,msgpack:512:64,string:512:64] [--timeout 60000]
// The checkouts (their dist/ and native/build) take turns, one process per run; per case it prints
// the median and the lowest event-loop µs per call of each, and the median of the per-round ratios.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { abMain, loadavg as load } from './lib/ab-checkouts.mjs';
import { median } from './lib/stats.mjs';

const USAGE = 'usage: node bench/ring-js.mjs --a OTHER_CHECKOUT [--b CHECKOUT] [--rounds N] [--ms MS] [--cases FORMAT:BYTES:INFLIGHT,...] [--timeout MS]';
await abMain(import.meta.url, USAGE, { ms: '1000', timeout: '60000' },
  (root, spec, opt) => child(root, spec, Number(opt('ms', 1000)), Number(opt('timeout', 60000))),
  ({ A, B, opt, run }) => parent(A, B, opt, run));

/** Both checkouts, case after case, round after round: the table. */
function parent(A, B, opt, run) {
  const rounds = Number(opt('rounds', 8)), ms = opt('ms', '1000'), timeout = opt('timeout', '60000');
  console.log(`a = ${A}\nb = ${B}\n${new Date().toISOString()}, ${rounds} rounds of ${ms} ms, timeout ${timeout} ms, load ${load()}\n`);
  console.log('| case (format:bytes:in flight) | a µs/call median (lowest) | b µs/call median (lowest) | b / a (range) | a calls/s | b calls/s |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const c of opt('cases', 'raw:512:64,msgpack:512:64,string:512:64').split(',')) {
    const ra = [], rb = [];
    for (let i = 0; i < rounds; i++) {
      ra.push(run(A, c));
      rb.push(run(B, c));
    }
    const ratios = ra.map((a, i) => rb[i].us / a.us);
    const us = (rs) => `${median(rs.map((r) => r.us)).toFixed(3)} (${Math.min(...rs.map((r) => r.us)).toFixed(3)})`;
    const rate = (rs) => Math.round(median(rs.map((r) => r.rate))).toLocaleString('en');
    console.log(`| ${c} | ${us(ra)} | ${us(rb)} | ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)}) | ${rate(ra)} | ${rate(rb)} |`);
  }
  console.log(`\n${new Date().toISOString()}, load ${load()}`);
}

/** One checkout, one case: { rate, us } (event-loop CPU per call, from /proc). */
async function child(root, spec, ms, timeoutMs) {
  const [format, bytes, inflight] = spec.split(':');
  const imp = (p) => import(pathToFileURL(path.join(root, p)).href);
  const L = await imp('dist/src/ring/layout.js');
  const { Channel } = await imp('dist/src/ffi/channel.js');
  const { Plugin } = await imp('dist/src/ffi/plugin.js');
  const { getFormat } = await imp('dist/src/ffi/formats.js');
  const { getHost } = await imp('dist/src/ffi/core.js');
  const h = getHost();
  const cap = 1024;
  const sab = L.createRingMemory(cap, 16 << 20);
  const tq = [null], fd = [-1];
  if (h.tqNew(new Uint8Array(sab), sab.byteLength, tq, fd) !== 0) throw new Error(h.lastError());
  const i32 = new Int32Array(sab), u8 = new Uint8Array(sab);
  const cmpBase = L.completionOffset(cap);
  let subHead = 0, cmpTail = 0;
  const echo = () => { // every published request answered with its own bytes, in order
    for (;;) {
      const so = L.SUBMIT_OFFSET + (subHead & (cap - 1)) * L.SLOT_SIZE;
      if (Atomics.load(i32, (so + L.SLOT_SEQ) >> 2) !== ((subHead + 1) | 0)) return;
      const id = i32[(so + L.SLOT_ID) >> 2], len = i32[(so + L.SLOT_LEN) >> 2];
      if (len > L.INLINE_MAX) throw new Error('ring-js answers inline payloads only (up to 992 bytes)');
      const co = cmpBase + (cmpTail & (cap - 1)) * L.SLOT_SIZE;
      u8.copyWithin(co + L.SLOT_DATA, so + L.SLOT_DATA, so + L.SLOT_DATA + len);
      Atomics.store(i32, (so + L.SLOT_SEQ) >> 2, (subHead + cap) | 0);
      subHead = (subHead + 1) | 0;
      i32[(co + L.SLOT_ID) >> 2] = id;
      i32[(co + L.SLOT_RC) >> 2] = 0;
      i32[(co + L.SLOT_LEN) >> 2] = len;
      i32[(co + L.SLOT_FLAG) >> 2] = 0;
      i32[(co + L.SLOT_PTR) >> 2] = 0;
      i32[(co + L.SLOT_PTR + 4) >> 2] = 0;
      Atomics.store(i32, (co + L.SLOT_SEQ) >> 2, (cmpTail + 1) | 0);
      cmpTail = (cmpTail + 1) | 0;
    }
  };
  const ch = new Channel(sab, tq[0], fd[0], h, () => {}, 65536, 'ring-js', echo);
  const p = new Plugin('ring-js', { channel: ch, path: 'js', unload: async () => {} }, getFormat(format), timeoutMs);
  const n = Number(bytes), k = Number(inflight);
  const fmt = getFormat(format);
  let req = format === 'raw' ? Buffer.alloc(n, 7) : format === 'string' ? 'x'.repeat(n) : { id: 1, method: 'echo', body: 'x'.repeat(n) };
  if (format !== 'raw' && format !== 'string') { // a record whose encoding is n bytes
    while (fmt.encode(req).length > n && req.body.length > 0) req = { ...req, body: req.body.slice(0, -1) };
  }
  const cpu = () => {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  };
  const drive = async (dur) => { // closed loop, k lanes; the clock read every 16 calls, not per call
    let calls = 0;
    const end = performance.now() + dur;
    await Promise.all(Array.from({ length: k }, async () => {
      while (performance.now() < end) {
        for (let j = 0; j < 16; j++) await p.call(req);
        calls += 16;
      }
    }));
    return calls;
  };
  await drive(300);
  const c0 = cpu(), t0 = performance.now();
  const calls = await drive(ms);
  const el = performance.now() - t0;
  process.stdout.write(JSON.stringify({ rate: (calls * 1000) / el, us: ((cpu() - c0) * 1e6) / calls }));
  process.exit(0);
}
