-- wrk script for bench/lib/load.mjs: an optional POST body of WRK_BODY_BYTES bytes, and one
-- JSON line at the end with what the tables need. Defining only `done` (no request/response
-- functions) keeps wrk on its fast path: the request is built once.
local n = tonumber(os.getenv("WRK_BODY_BYTES") or "0")
if n > 0 then
  wrk.method = "POST"
  wrk.body = string.rep("x", n)
  wrk.headers["Content-Type"] = "text/plain"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
