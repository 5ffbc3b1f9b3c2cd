// Drives ngx.shared through real requests: POST /ops with a JSON list of [dict, method, args]
// runs them in one handler call and answers every result (or what it threw) with the pid of
// the worker that ran them.
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { expect } from 'vitest';
import { httpGet, ROOT } from './server.js';

/** js_shared_dict needs the native addon; without it (no C compiler or Node headers) say so. */
export const NO_SHDICT = existsSync(path.join(ROOT, 'native', 'build', 'tresty_shdict.node')) ? ''
  : ' (skipped: native/build/tresty_shdict.node is not built: npm run build needs make, a C compiler and Node\'s headers)';

/** A handler file (content_by_js_file) that runs the posted operations. */
export const OPS_HANDLER = `
export default async (ngx) => {
  await ngx.req.read_body();
  const ops = JSON.parse(ngx.req.get_body_data() ?? '[]');
  const out = [];
  for (const [dict, method, args] of ops) {
    if (method === 'sleep') { await ngx.sleep(args[0]); out.push(null); continue; }
    const d = ngx.shared[dict];
    if (d === undefined) { out.push({ missing: dict }); continue; }
    try {
      out.push(d[method](...args));
    } catch (e) {
      out.push({ threw: e.message, code: e.code });
    }
  }
  ngx.header.content_type = 'application/json';
  ngx.say(JSON.stringify({ pid: ngx.worker.pid(), out }));
};
`;

export type Op = [dict: string, method: string, args: unknown[]];

/** Runs the operations in one request (on `conn`'s connection if given); returns their results and the worker's pid. */
export async function runOps(port: number, ops: Op[], conn?: WorkerConn): Promise<{ pid: number; out: unknown[] }> {
  const body = JSON.stringify(ops);
  const r = conn ? await conn.post(body) : await httpGet(port, '/ops', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  expect(r.status, r.body).toBe(200);
  return JSON.parse(r.body) as { pid: number; out: unknown[] };
}

/** One operation in its own request. */
export async function op(port: number, dict: string, method: string, ...args: unknown[]): Promise<{ pid: number; r: unknown }> {
  const { pid, out } = await runOps(port, [[dict, method, args]]);
  return { pid, r: out[0] };
}

/** A keep-alive connection to /ops that stays on one worker. */
export interface WorkerConn {
  readonly pid: number;
  post(body: string): Promise<{ status: number; body: string }>;
  close(): void;
}

function postOn(port: number, agent: http.Agent, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/ops', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer to POST /ops within 10000 ms')));
    req.end(body);
  });
}

/**
 * One keep-alive connection on each of `workers` workers. Which worker takes a new connection is
 * the kernel's race (the native engine, like nginx without accept_mutex, lets the first worker
 * awake accept it), so a test that needs both workers sends its steps on these in turn.
 */
export async function connsToEachWorker(port: number, workers: number, timeoutMs = 15_000): Promise<WorkerConn[]> {
  const byPid = new Map<number, WorkerConn>();
  const deadline = Date.now() + timeoutMs;
  while (byPid.size < workers) {
    if (Date.now() > deadline) {
      for (const c of byPid.values()) c.close();
      throw new Error(`no connection reached ${workers} workers within ${timeoutMs} ms (pids ${[...byPid.keys()]})`);
    }
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const r = await postOn(port, agent, '[]');
    const pid = (JSON.parse(r.body) as { pid: number }).pid;
    if (byPid.has(pid)) { agent.destroy(); continue; }
    byPid.set(pid, { pid, post: (body) => postOn(port, agent, body), close: () => agent.destroy() });
  }
  return [...byPid.values()];
}
