// Heads compared byte for byte on both tresty engines and on nginx + lua (compat-head-*.test.ts):
// each request goes twice, pipelined on one connection, and both answers must have the head
// expected, with the values that differ between servers and runs set aside (normalHead).
import { expect, it } from 'vitest';
import { raw, statuses } from './conn.js';

/** [title, method, path, request header lines (each ending with CRLF), the head expected, the
 *  connection closes after it: the request pipelined behind it is not answered (a 412 of nginx's
 *  not-modified filter, though its head says keep-alive)] */
export type HeadCase = [string, string, string, string, string, boolean?];

/** A head from its lines (status line first). */
export const headOf = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;

/** The first head of `data`: Server, Date, Expires, Last-Modified and ETag values, a Location's
 *  port and the length of nginx's pages (they name the server) set aside. */
export function normalHead(data: string): string {
  const h = data.slice(0, data.indexOf('\r\n\r\n') + 4);
  return h.replace(/\r\nServer: (?:nginx|tresty)[^\r]*/, '\r\nServer: S').replace(/\r\nDate: [^\r]*/, '\r\nDate: D')
    .replace(/\r\nExpires: [^\r]*/, '\r\nExpires: E').replace(/\r\nLast-Modified: [^\r]*/, '\r\nLast-Modified: L')
    .replace(/\r\nETag: [^\r]*/, '\r\nETag: E').replace(/\r\n(Location: http:\/\/h):\d+/, '\r\n$1')
    .replace(/^(HTTP\/1\.1 (?:301|41[26]) [^]*?\r\nContent-Length: )\d+/, '$1N');
}

/** One test per case; `more` checks the whole answer further (its body). */
export function headChecks(cases: readonly HeadCase[], more?: (c: HeadCase, data: string) => void): (port: () => number) => void {
  return (port) => {
    for (const c of cases) {
      const [title, method, path, hdrs, want, once] = c;
      it(`${method} ${path}${hdrs === '' ? '' : ` (${hdrs.slice(0, hdrs.indexOf(':'))})`}: ${title}`, async () => {
        const req = `${method} ${path} HTTP/1.1\r\nHost: h\r\n${hdrs}\r\n`;
        const r = await raw(port(), [req + req], { timeoutMs: 600, answers: 2, heads: method === 'HEAD' });
        expect(normalHead(r.data)).toBe(want);
        if (once === true) {
          expect(statuses(r.data)).toEqual([Number(want.slice(9, 12))]);
          expect(r.closed).toBe(true);
          return;
        }
        // the second request on the connection is answered the same
        const status = Number(want.slice(9, 12));
        expect(statuses(r.data)).toEqual([status, status]);
        expect(normalHead(r.data.slice(r.data.lastIndexOf('HTTP/1.1 ')))).toBe(want);
        more?.(c, r.data);
      });
    }
  };
}
