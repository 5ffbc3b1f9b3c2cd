// Phase tests as data (STYLE 12): each case is conf (locations) + requests + expected status,
// body, headers and error-log lines. All cases of a file share one real tresty (one worker, so
// module state is observable) and every case runs twice to catch state leaking between requests.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, startTresty, type HttpResult, type TrestyProcess } from './server.js';

export interface Expect {
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  status?: number;
  /** Exact body, or a RegExp it must match. */
  resBody?: string | RegExp;
  resHeaders?: Record<string, string | RegExp | undefined>;
  /** The response is cut after its headers: the client sees the connection close mid-body. */
  aborted?: boolean;
}

export interface Case {
  name: string;
  /** Locations (and other server-level directives) for this case; paths must be unique. */
  conf: string;
  requests: Expect[];
  /** Substrings or patterns that must appear in error.log after the requests. */
  errorLog?: Array<string | RegExp>;
  /** Patterns that must not appear in the lines this case produced. */
  noErrorLog?: Array<string | RegExp>;
  /** Runs only once (for cases whose state is meant to persist, such as counters). */
  once?: boolean;
  /**
   * The same case in Lua for nginx + lua-nginx-module (test/helpers/compat.ts runs it there with
   * the same expectations, to keep them honest), with its own expectations where they differ.
   */
  lua?: string;
  luaRequests?: Expect[];
  luaErrorLog?: Array<string | RegExp>;
}

export interface Suite {
  http?: string;
  server?: string;
  files?: Record<string, string>;
  workers?: number;
}

/** `__PORT__` in the suite's texts is the server's port. */
export function confFor(port: number, suite: Suite, cases: readonly Case[]): string {
  return confText(port, suite, cases).replace(/__PORT__/g, String(port));
}

function confText(port: number, suite: Suite, cases: readonly Case[]): string {
  return `worker_processes ${suite.workers ?? 1};
error_log logs/error.log info;
events {}
http {
  ${suite.http ?? ''}
  server {
    listen 127.0.0.1:${port} default_server;
    server_name localhost;
    ${suite.server ?? ''}
${cases.map((c) => c.conf).join('\n')}
  }
}
`;
}

export function errorLogOf(t: TrestyProcess): string {
  try { return fs.readFileSync(path.join(t.prefix, 'logs', 'error.log'), 'utf8'); } catch { return ''; }
}

async function waitForLog(log: () => string, from: number, pats: Array<string | RegExp>): Promise<string> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const text = log().slice(from);
    const missing = pats.filter((p) => (typeof p === 'string' ? !text.includes(p) : !p.test(text)));
    if (missing.length === 0 || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function check(res: HttpResult, e: Expect): void {
  const where = `${e.method ?? 'GET'} ${e.path}`;
  if (e.status !== undefined) expect(res.status, `${where} status; body: ${res.body}`).toBe(e.status);
  if (typeof e.resBody === 'string') expect(res.body, `${where} body`).toBe(e.resBody);
  else if (e.resBody) expect(res.body, `${where} body`).toMatch(e.resBody);
  for (const [k, v] of Object.entries(e.resHeaders ?? {})) {
    const got = res.headers[k.toLowerCase()];
    if (v === undefined) expect(got, `${where} header ${k}`).toBeUndefined();
    else if (typeof v === 'string') expect(Array.isArray(got) ? got.join(', ') : got, `${where} header ${k}`).toBe(v);
    else expect(String(got), `${where} header ${k}`).toMatch(v);
  }
}

/** Declares a describe block that runs `cases` against one tresty. */
export function phaseSuite(title: string, suite: Suite, cases: readonly Case[]): void {
  describe(title, () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(confFor(port, suite, cases), { files: suite.files });
    });
    afterAll(async () => { await t?.stop(); });

    for (const c of cases) it(c.name, () => runCase(port, () => errorLogOf(t), c));
  });
}

/** Sends a case's requests (twice unless `once`) and checks the answers and the error log. */
export async function runCase(
  port: number, log: () => string, c: Pick<Case, 'requests' | 'errorLog' | 'noErrorLog' | 'once'>,
): Promise<void> {
  for (let round = 0; round < (c.once ? 1 : 2); round++) {
    const from = log().length;
    for (const e of c.requests) {
      const sent = httpGet(port, e.path, { method: e.method, headers: e.headers, body: e.body });
      if (e.aborted) {
        await expect(sent, `${e.path} is cut`).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
        continue;
      }
      check(await sent, e);
    }
    if (c.errorLog || c.noErrorLog) {
      const text = await waitForLog(log, from, c.errorLog ?? []);
      for (const p of c.errorLog ?? []) {
        if (typeof p === 'string') expect(text, `round ${round + 1}: error.log`).toContain(p);
        else expect(text, `round ${round + 1}: error.log`).toMatch(p);
      }
      for (const p of c.noErrorLog ?? []) {
        if (typeof p === 'string') expect(text).not.toContain(p);
        else expect(text).not.toMatch(p);
      }
    }
  }
}
