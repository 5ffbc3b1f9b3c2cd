// Ring micro-benchmarks: the ring alone, then plugin.call end to end through a C runtime and a
// C function on the piscina pool, one call at a time (every answer needs the doorbell) and
// pipelined (answers drain in batches). Needs `npm run build`. Prints one table; < 1 min.
//   node bench/ring.mjs            BENCH_SECONDS=1 per row by default
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { Ring, createRingMemory, submitPlace, SLOT_ID } = await import(`${root}dist/src/ring/index.js`);
const { loadFfi, unloadAll } = await import(`${root}dist/src/ffi/index.js`);
const L = await import(`${root}dist/src/ring/layout.js`);
const { getHost } = await import(`${root}dist/src/ffi/core.js`);
const { openLibrary } = await import(`${root}dist/src/ffi/bindings.js`);
const seconds = Number(process.env.BENCH_SECONDS ?? 1);
const searchPath = [`${root}native/build/test-runtimes`];
const rows = [];

function row(name, ops, ns, extra = {}) {
  rows.push({ benchmark: name, 'ops/s': Math.round(ops / (ns / 1e9)), 'ns/op': Math.round(ns / ops), ...extra });
}

// 1. the ring alone: claim/publish then take/release, one thread, no wake-ups at all
{
  const cap = 1024;
  const r = new Ring(createRingMemory(cap), submitPlace(cap));
  const i32 = r.i32;
  let ops = 0;
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(seconds * 1e9);
  while (process.hrtime.bigint() < end) {
    for (let k = 0; k < 10_000; k++) {
      for (let j = 0; j < 64; j++) {
        const off = r.claim();
        i32[(off + SLOT_ID) >> 2] = j;
        r.publish(off);
      }
      for (let j = 0; j < 64; j++) r.release(r.take());
      ops += 64;
    }
  }
  row('ring push+pop (JS, batches of 64)', ops, Number(process.hrtime.bigint() - t0));
}

// 2. the raw round trip with no doorbell: JS spins on the completion ring (tresty never does
//    this on the event loop; it shows what the doorbell costs by difference)
{
  const h = getHost();
  const sab = createRingMemory(1024);
  const tq = [null];
  const fd = [-1];
  h.tqNew(new Uint8Array(sab), sab.byteLength, tq, fd);
  const init = openLibrary(`${searchPath[0]}/libtresty_test_echo.so`).symbol('libffi_init');
  h.runtimeInit(tq[0], init, 'threads=1', [0]);
  const sub = new Ring(sab, L.submitPlace(1024));
  const cmp = new Ring(sab, L.completionPlace(1024));
  const i32 = sub.i32;
  let ops = 0;
  let wakes = 0;
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(seconds * 1e9);
  while (process.hrtime.bigint() < end) {
    for (let k = 0; k < 1000; k++) {
      const off = sub.claim();
      i32[(off + L.SLOT_ID) >> 2] = k;
      i32[(off + L.SLOT_LEN) >> 2] = 64;
      sub.publish(off);
      if (Atomics.load(i32, L.SUB_SLEEPERS >> 2) !== 0) { h.tqWake(tq[0], 1); wakes++; }
      let c;
      while ((c = cmp.take()) < 0);
      cmp.release(c);
    }
    ops += 1000;
  }
  row('raw round trip, 1 in flight, JS spins (no doorbell)', ops, Number(process.hrtime.bigint() - t0),
    { 'MB/s': '', 'doorbells/1k calls': '0.0', 'poller wakes/1k calls': ((wakes / ops) * 1000).toFixed(1) });
  Atomics.store(i32, L.STATE >> 2, L.STATE_CLOSING);
  h.tqWake(tq[0], 0x7fffffff);
  h.tqDetach(tq[0]);
}

async function timed(name, plugin, payload, window) {
  const before = plugin.debugInfo();
  let ops = 0;
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(seconds * 1e9);
  while (process.hrtime.bigint() < end) {
    if (window === 1) {
      for (let k = 0; k < 100; k++) await plugin.call(payload);
      ops += 100;
    } else {
      const batch = [];
      for (let k = 0; k < window; k++) batch.push(plugin.call(payload));
      await Promise.all(batch);
      ops += window;
    }
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const after = plugin.debugInfo();
  const per = (n) => ((n / ops) * 1000).toFixed(1);
  row(name, ops, ns, {
    'MB/s': payload.length > 1000 ? Math.round((ops * payload.length * 2) / (ns / 1e3)) : '',
    'doorbells/1k calls': per(after.doorbells - before.doorbells),
    'poller wakes/1k calls': per(after.wakes - before.wakes),
  });
}

const small = Buffer.from('x'.repeat(64));
const rt = loadFfi('tresty_test_echo', 'threads=1', { searchPath, format: 'raw', maxQueue: 1 << 16 });
const fn = loadFfi('tresty_test_fnlib', null, { searchPath, kind: 'function', symbol: 'tresty_test_echo', format: 'raw', maxQueue: 1 << 16 });
await rt.call(small);
await fn.call(small);
await timed('runtime call, 1 in flight (doorbell each)', rt, small, 1);
await timed('runtime call, 256 in flight (batched)', rt, small, 256);
await timed('runtime call, 4096 in flight (ring + backlog)', rt, small, 4096);
await timed('function call, 1 in flight', fn, small, 1);
await timed('function call, 256 in flight', fn, small, 256);
await timed('runtime call 100 KB, 16 in flight', rt, Buffer.alloc(100 * 1024, 1), 16);
await timed('runtime call 1 MB, 4 in flight', rt, Buffer.alloc(1024 * 1024, 1), 4);
await unloadAll();

console.log(`node ${process.version}, ${seconds}s per row, 64-byte payloads unless noted, echo runtime with 1 poller thread`);
console.table(rows);
