// The HTTP load generator: wrk when it is installed (C, far lighter than the servers it loads),
// autocannon otherwise (a devDependency, so `npm install` is enough). Both run closed-loop
// keep-alive connections for a fixed time and report { rps, p50Ms, p99Ms, errors }.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTracked } from './procs.mjs';

const WRK_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'wrk-report.lua');

export function haveWrk() {
  return spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status === 0;
}

/** Which generator to use: --load NAME, else wrk when installed. */
export function pickLoad(requested) {
  if (requested && !['wrk', 'autocannon'].includes(requested)) throw new Error(`--load must be wrk or autocannon, got "${requested}"`);
  if (requested === 'wrk' && !haveWrk()) throw new Error('--load wrk, but wrk is not installed (Debian: apt-get install wrk)');
  return requested ?? (haveWrk() ? 'wrk' : 'autocannon');
}

/**
 * One load run against url. opts: { tool, connections, seconds, threads, bodyBytes, headers }.
 * With bodyBytes > 0 each request is a POST of that many 'x' bytes; headers: wrk only.
 */
export function runLoad(url, opts) {
  return opts.tool === 'wrk' ? runWrk(url, opts) : runAutocannon(url, opts);
}

async function runWrk(url, { connections, seconds, threads = 1, bodyBytes = 0, headers = {} }) {
  const h = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const p = spawnTracked('wrk', [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', ...h, '-s', WRK_SCRIPT, url], {
    env: { ...process.env, WRK_BODY_BYTES: String(bodyBytes) },
  });
  await p.exited;
  const line = p.output().split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk gave no report for ${url}:\n${p.output().trim()}`);
  const r = JSON.parse(line.slice(9));
  return {
    rps: r.requests / (r.duration_us / 1e6),
    requests: r.requests,
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    errors: r.connect + r.read + r.write + r.status + r.timeout,
  };
}

async function runAutocannon(url, { connections, seconds, bodyBytes = 0 }) {
  const { default: autocannon } = await import('autocannon');
  const r = await autocannon({
    url, connections, duration: seconds, pipelining: 1,
    ...(bodyBytes > 0 ? { method: 'POST', body: 'x'.repeat(bodyBytes), headers: { 'content-type': 'text/plain' } } : {}),
  });
  return {
    rps: r.requests.total / r.duration,
    requests: r.requests.total,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}
