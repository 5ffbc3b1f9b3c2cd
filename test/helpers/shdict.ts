// Drives ngx.shared through real requests: POST /ops with a JSON list of [dict, method, args]
// runs them in one handler call and answers every result (or what it threw) with the pid of
// the worker that ran them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { pinConns, type PinnedConn } from './pinned.js';
import { httpGet, ROOT } from './server.js';

/** js_shared_dict needs the native addon; without it (no C compiler or Node headers) say so. */
export const NO_SHDICT = existsSync(path.join(ROOT, 'native', 'build', 'tresty_shdict.node')) ? ''
  : ' (skipped: native/build/tresty_shdict.node is not built: npm run build needs make, a C compiler and Node\'s headers)';

/** A handler file (content_by_js_file) that runs the posted operations. */
export const OPS_HANDLER = `
import fs from 'node:fs';
export default async (ngx) => {
  await ngx.req.read_body();
  // A list past client_body_buffer_size (8k) is in a temp file, as nginx keeps it.
  const file = ngx.req.get_body_file();
  const ops = JSON.parse(ngx.req.get_body_data() ?? (file ? fs.readFileSync(file, 'utf8') : '[]'));
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

/** Runs the operations in one request (on `conn` if given); returns their results and the worker's pid. */
export async function runOps(port: number, ops: Op[], conn?: PinnedConn): Promise<{ pid: number; out: unknown[] }> {
  const opts = { method: 'POST', body: JSON.stringify(ops), headers: { 'content-type': 'application/json' } };
  const r = conn ? await conn.request('/ops', opts) : await httpGet(port, '/ops', opts);
  expect(r.status, r.body).toBe(200);
  return JSON.parse(r.body) as { pid: number; out: unknown[] };
}

/** One operation in its own request. */
export async function op(port: number, dict: string, method: string, ...args: unknown[]): Promise<{ pid: number; r: unknown }> {
  const { pid, out } = await runOps(port, [[dict, method, args]]);
  return { pid, r: out[0] };
}

/** One keep-alive connection to /ops on each of `workers` workers (test/helpers/pinned.ts). */
export function opsConns(port: number, workers: number): Promise<PinnedConn[]> {
  return pinConns(port, {
    workers, perWorker: 1,
    probe: async (request) => (JSON.parse((await request('/ops', { method: 'POST', body: '[]' })).body) as { pid: number }).pid,
  });
}
