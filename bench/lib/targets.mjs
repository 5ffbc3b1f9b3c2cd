// The targets of issue 5, as data: each names the cell of a result it reads and the ratio it
// needs. A target whose cell was not measured (a --only or --payloads run, nginx missing) is
// "not run", never silently met.

export const FFI_TARGETS = [
  { id: 'raw-512-x1', text: 'raw 512 B, 1 in flight: FFI >= 8x UDS calls/s', format: 'raw', size: 512, inflight: 1, min: 8 },
  { id: 'raw-512-x64', text: 'raw 512 B, 64 in flight: FFI >= 5x UDS', format: 'raw', size: 512, inflight: 64, min: 5 },
  { id: 'msgpack-512-x64', text: 'msgpack 512 B, 64 in flight: FFI >= 3x UDS', format: 'msgpack', size: 512, inflight: 64, min: 3 },
  { id: 'raw-100k-x1', text: 'raw 100 KB, 1 in flight: FFI >= 4x UDS', format: 'raw', size: 102400, inflight: 1, min: 4 },
];

export const HTTP_TARGETS = [
  { id: 'hello-vs-node', text: 'hello world: tresty >= 0.95x bare node:http', test: 'hello', min: 0.95 },
  { id: 'chain-vs-node', text: 'rewrite->access->content chain: tresty >= 0.9x bare node:http', test: 'chain', min: 0.9 },
];

// Every core busy (ffi-vs-uds --busy): each cell must still be at least 1.5x.
export const FFI_BUSY_MIN = 1.5;

// HTTP /echo inside tresty (issue 10): the FFI path against the unix socket and against /hello.
export const ECHO_TARGETS = [
  { id: 'echo-512-uds', text: 'echo 512 B: /echo-ffi >= 1.3x /echo-uds', test: 'echo 512 B', ratio: 'ffi/uds', min: 1.3 },
  { id: 'echo-512-hello', text: 'echo 512 B: /echo-ffi >= 0.9x /hello', test: 'echo 512 B', ratio: 'ffi/hello', min: 0.9 },
  { id: 'echo-10k-uds', text: 'echo 10 KB: /echo-ffi >= 1.3x /echo-uds', test: 'echo 10 KB', ratio: 'ffi/uds', min: 1.3 },
  { id: 'echo-10k-hello', text: 'echo 10 KB: /echo-ffi >= 0.9x /hello', test: 'echo 10 KB', ratio: 'ffi/hello', min: 0.9 },
  // The same targets read on the zero-hop path (kind function, blocking off: no thread hand-off).
  { id: 'echo-512-fn-uds', text: 'echo 512 B: /echo-fn (zero hop) >= 1.3x /echo-uds', test: 'echo 512 B', ratio: 'fn/uds', min: 1.3 },
  { id: 'echo-512-fn-hello', text: 'echo 512 B: /echo-fn (zero hop) >= 0.9x /hello', test: 'echo 512 B', ratio: 'fn/hello', min: 0.9 },
  { id: 'echo-10k-fn-uds', text: 'echo 10 KB: /echo-fn (zero hop) >= 1.3x /echo-uds', test: 'echo 10 KB', ratio: 'fn/uds', min: 1.3 },
  { id: 'echo-10k-fn-hello', text: 'echo 10 KB: /echo-fn (zero hop) >= 0.9x /hello', test: 'echo 10 KB', ratio: 'fn/hello', min: 0.9 },
  // And on the ring with bound workers and real-time pollers (ffi_poller_sched fifo), against the
  // socket and /hello of the same server.
  { id: 'echo-512-rt-uds', text: 'echo 512 B, real-time pollers: /echo-ffi >= 1.3x /echo-uds', test: 'echo 512 B', ratio: 'ffi-rt/uds-rt', min: 1.3 },
  { id: 'echo-512-rt-hello', text: 'echo 512 B, real-time pollers: /echo-ffi >= 0.9x /hello', test: 'echo 512 B', ratio: 'ffi-rt/hello-rt', min: 0.9 },
  { id: 'echo-10k-rt-uds', text: 'echo 10 KB, real-time pollers: /echo-ffi >= 1.3x /echo-uds', test: 'echo 10 KB', ratio: 'ffi-rt/uds-rt', min: 1.3 },
  { id: 'echo-10k-rt-hello', text: 'echo 10 KB, real-time pollers: /echo-ffi >= 0.9x /hello', test: 'echo 10 KB', ratio: 'ffi-rt/hello-rt', min: 0.9 },
];

function verdict(t, ratio) {
  if (!Number.isFinite(ratio)) return { ...t, ratio: null, status: 'not run' };
  return { ...t, ratio, status: ratio >= t.min ? 'met' : 'MISSED' };
}

/** cells: [{ format, size, inflight, ratio }] from the FFI/UDS benchmark. */
export function checkFfi(cells, busy = false) {
  if (busy) {
    return cells.map((c) => verdict({ id: `busy-${c.format}-${c.size}-x${c.inflight}`,
      text: `every core busy, ${c.format} ${c.size} B, ${c.inflight} in flight: FFI >= ${FFI_BUSY_MIN}x UDS`, min: FFI_BUSY_MIN }, c.ratio));
  }
  return FFI_TARGETS.map((t) => {
    const c = cells.find((x) => x.format === t.format && x.size === t.size && x.inflight === t.inflight);
    return verdict(t, c?.ratio);
  });
}

/** tests: [{ test, vsNode }] from the HTTP benchmark. */
export function checkHttp(tests) {
  return HTTP_TARGETS.map((t) => verdict(t, tests.find((x) => x.test === t.test)?.vsNode));
}

/** tests: the HTTP benchmark's tests; each echo test has ratios keyed 'ffi/uds' and 'ffi/hello'. */
export function checkEcho(tests) {
  return ECHO_TARGETS.map((t) => verdict(t, tests.find((x) => x.test === t.test)?.ratios.find((q) => `${q.num}/${q.den}` === t.ratio)?.value));
}

/** A CPU share against its ceiling (pollers + pool threads under load, and idle). */
export function checkCeiling(text, share, max) {
  if (!Number.isFinite(share)) return { text, ratio: null, share: null, status: 'not run' };
  return { text, share, status: share < max || (max === 0 && share === 0) ? 'met' : 'MISSED' };
}
