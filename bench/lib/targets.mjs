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

function verdict(t, ratio) {
  if (!Number.isFinite(ratio)) return { ...t, ratio: null, status: 'not run' };
  return { ...t, ratio, status: ratio >= t.min ? 'met' : 'MISSED' };
}

/** cells: [{ format, size, inflight, ratio }] from the FFI/UDS benchmark. */
export function checkFfi(cells) {
  return FFI_TARGETS.map((t) => {
    const c = cells.find((x) => x.format === t.format && x.size === t.size && x.inflight === t.inflight);
    return verdict(t, c?.ratio);
  });
}

/** tests: [{ test, vsNode }] from the HTTP benchmark. */
export function checkHttp(tests) {
  return HTTP_TARGETS.map((t) => verdict(t, tests.find((x) => x.test === t.test)?.vsNode));
}
