// One request on a fresh connection, its body as bytes (compressed answers are checked after
// gunzip by the caller), and the header expectations the compat suites share.
import http from 'node:http';
import { expect } from 'vitest';

export interface Raw { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

export function fetchRaw(port: number, p: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${p}`)));
    req.end();
  });
}

/** Each header as expected: a string exactly, a RegExp matched, undefined absent. */
export function expectHeaders(res: Raw, want: Record<string, string | RegExp | undefined>, label: string): void {
  for (const [k, v] of Object.entries(want)) {
    const got = res.headers[k.toLowerCase()];
    if (v === undefined) expect(got, `${label} ${k}`).toBeUndefined();
    else if (typeof v === 'string') expect(got, `${label} ${k}`).toBe(v);
    else expect(String(got), `${label} ${k}`).toMatch(v);
  }
}
