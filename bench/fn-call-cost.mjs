#!/usr/bin/env node
// The per-call CPU of a plugin call from a plain process, one call at a time (each awaited, as a
// handler does): the zero-hop path (`kind function; blocking off`) and the ring (echo_c's poller),
// 512 B string echo by default, with the pieces of the zero-hop call timed apart (the format's
// encode, the koffi call, the decode). What bench/README.md's "The cost of a call inside a worker"
// measured with. --root runs another checkout's build (its dist/ and native/build), for before/after.
//   node bench/fn-call-cost.mjs [--root CHECKOUT] [--bytes 512] [--ms 1500] [--format string]
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { argsOrUsage } from './lib/usage.mjs';
import { ROOT } from './lib/tresty-dist.mjs';

const USAGE = 'usage: node bench/fn-call-cost.mjs [--root CHECKOUT] [--bytes N] [--ms MS] [--format string|raw|json]';
const v = argsOrUsage(USAGE, {
  root: { type: 'string', default: ROOT }, bytes: { type: 'string', default: '512' }, ms: { type: 'string', default: '1500' },
  format: { type: 'string', default: 'string' },
});
const root = path.resolve(v.root);
const { loadFfi } = await import(pathToFileURL(path.join(root, 'dist', 'src', 'ffi', 'index.js')).href);
const bytes = Number(v.bytes);
const format = v.format;
const text = 'x'.repeat(bytes);
const req = format === 'raw' ? new TextEncoder().encode(text) : format === 'json' ? { s: 'x'.repeat(Math.max(0, bytes - 8)) } : text;

/** Calls/s and µs of this thread's CPU per call, one call awaited at a time for `ms`. */
async function measure(name, call) {
  for (let i = 0; i < 20000; i++) await call(); // warm-up
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < Number(v.ms)) {
    for (let i = 0; i < 1000; i++) await call();
    n += 1000;
  }
  const c = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  return { path: name, 'calls/s': Math.round((n * 1000) / wall), 'CPU µs/call (process)': ((c.user + c.system) / n).toFixed(3) };
}

const opts = { searchPath: [path.join(root, 'native', 'build')] };
const fn = loadFfi('echo_c', null, { ...opts, kind: 'function', symbol: 'echo_call', blocking: false, format });
const ring = loadFfi('echo_c', null, { ...opts, format });
const rows = [];
rows.push(await measure('await Promise.resolve() (the floor)', () => Promise.resolve(req)));
rows.push(await measure('zero hop', () => fn.call(req)));
rows.push(await measure('ring (echo_c poller)', () => ring.call(req)));
console.log(`${root}: ${bytes} B ${format}, one call at a time, ${v.ms} ms per row`);
console.table(rows);
await fn.unload();
await ring.unload();
process.exit(0);
