// The Node flags a worker runs with: the master's own, plus V8's allocation-site pretenuring off.
// Pretenuring makes V8 allocate straight into the old generation at allocation sites whose objects
// often survive a scavenge. In a worker, requests that wait on something (an FFI answer, an
// upstream) are alive at every scavenge in numbers, so V8 pretenured the request path's sites:
// each request's objects then went to the old generation as garbage and were cleaned by
// concurrent marking on V8's helper threads. Measured (bench/README.md, "FFI inside a busy
// server"): /echo-ffi on one worker, 64 connections, 18-20 µs of main-thread CPU and 5-6 µs on
// the helper threads per request with it, 14-15 µs and 0.3 µs without. TRESTY_V8_PRETENURING=1
// keeps V8's default (for A/B runs); a flag the master was started with wins.
export function workerExecArgv(): string[] {
  const own = process.execArgv;
  if (process.env.TRESTY_V8_PRETENURING === '1' || own.some((a) => a.includes('allocation-site-pretenuring'))) return [...own];
  return [...own, '--no-allocation-site-pretenuring'];
}
