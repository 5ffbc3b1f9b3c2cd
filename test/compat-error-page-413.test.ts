// error_page for the 413 of a body over client_max_body_size, on both engines and on nginx 1.22 +
// lua with the same expectations. Observed on nginx: a Content-Length over the limit is refused
// when the location is found (before any handler, `return` included), a chunked body when it grows
// past the limit; either way the location's error_page answers (an internal redirect to a URI or a
// @name with the 413 status, `=CODE` / `=` with the target's, a URL with 302 or `=CODE`), the body
// is not handed to the target, the answer says `Connection: close` and a request pipelined behind
// it is not answered.
import { expect, it } from 'vitest';
import { raw, statuses } from './helpers/conn.js';
import { onEnginesAndNginx } from './helpers/three-servers.js';

const locations = (js: boolean): string => {
  const read = js ? 'content_by_js_block { await ngx.req.read_body(); ngx.say("read:", ngx.req.get_body_data() ?? "none"); }'
    : 'content_by_lua_block { ngx.req.read_body() ngx.say("read:", ngx.req.get_body_data() or "none") }';
  return `client_max_body_size 10;
    lingering_timeout 1s;
    location = /ok { return 200 "ok"; }
    location = /big { return 200 "big\\n"; }
    location = /target { client_max_body_size 0; ${read} }
    location = /uri { error_page 413 /big; ${read} }
    location = /uri-eq { error_page 413 =200 /big; ${read} }
    location = /uri-eq0 { error_page 413 = /big; ${read} }
    location = /reads { error_page 413 /target; ${read} }
    location = /named { error_page 413 @n; ${read} }
    location @n { return 200 "named\\n"; }
    location = /url { error_page 413 http://e.example/too; ${read} }
    location = /url301 { error_page 413 =301 http://e.example/too; ${read} }
    location = /ret { error_page 413 /big; return 200 "ret\\n"; }
    location = /plain { ${read} }`;
};

const B20 = 'b'.repeat(20);
const post = (p: string, v = '1.1'): string => `POST ${p} HTTP/${v}\r\nHost: h\r\nContent-Length: 20\r\n\r\n${B20}`;
const NEXT = 'GET /ok HTTP/1.1\r\nHost: h\r\n\r\n';
const chunked = (p: string): string[] => [`POST ${p} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\naaaaa\r\n`, '8\r\nbbbbbbbb\r\n', `0\r\n\r\n${NEXT}`];

/** The answer's body: after the head. */
const bodyOf = (data: string): string => data.slice(data.indexOf('\r\n\r\n') + 4);

function checks(port: () => number): void {
  for (const [p, status, body] of [['/uri', 413, 'big\n'], ['/uri-eq', 200, 'big\n'], ['/uri-eq0', 200, 'big\n'], ['/named', 413, 'named\n'], ['/ret', 413, 'big\n']] as const) {
    it(`${p}: a Content-Length over the limit gets the error_page's answer (${status}), Connection: close, the pipelined request not answered`, async () => {
      const r = await raw(port(), [post(p) + NEXT], { timeoutMs: 2500 });
      expect(statuses(r.data)).toEqual([status]);
      expect(r.data).toMatch(/\r\nContent-Type: text\/plain\r\n/);
      expect(r.data).toMatch(/\r\nConnection: close\r\n/);
      expect(bodyOf(r.data)).toBe(body);
      expect(r.closed).toBe(true);
      expect(r.reset).toBe(false);
    });
  }

  it('the error_page target does not get the refused body', async () => {
    const r = await raw(port(), [post('/reads')], { timeoutMs: 2500 });
    expect(statuses(r.data)).toEqual([413]);
    expect(bodyOf(r.data)).toMatch(/^(?:[0-9a-f]+\r\n)?read:none\n/);
    expect(r.closed).toBe(true);
  });

  for (const [p, status] of [['/url', 302], ['/url301', 301]] as const) {
    it(`${p}: a URL error_page redirects (${status}) with nginx's page and closes`, async () => {
      const r = await raw(port(), [post(p) + NEXT], { timeoutMs: 2500 });
      expect(statuses(r.data)).toEqual([status]);
      expect(r.data).toMatch(/\r\nLocation: http:\/\/e\.example\/too\r\n/);
      expect(r.data).toMatch(/\r\nConnection: close\r\n/);
      expect(bodyOf(r.data)).toMatch(new RegExp(`^<html>\\r\\n<head><title>${status} `));
      expect(r.closed).toBe(true);
    });
  }

  it('a chunked body that grows past the limit gets the error_page answer too', async () => {
    const a = await raw(port(), chunked('/uri'), { timeoutMs: 2500, gapMs: 150 });
    expect(statuses(a.data)).toEqual([413]);
    expect(bodyOf(a.data)).toBe('big\n');
    expect(a.data).toMatch(/\r\nConnection: close\r\n/);
    expect(a.closed).toBe(true);
    const b = await raw(port(), chunked('/url'), { timeoutMs: 2500, gapMs: 150 });
    expect(statuses(b.data)).toEqual([302]);
    expect(b.closed).toBe(true);
  });

  it('HEAD and HTTP/1.0: the target\'s status and length, no body for HEAD', async () => {
    const a = await raw(port(), ['HEAD /uri HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n'], { timeoutMs: 2500 });
    expect(statuses(a.data)).toEqual([413]);
    expect(a.data).toMatch(/\r\nContent-Length: 4\r\nConnection: close\r\n\r\n$/);
    const b = await raw(port(), [post('/uri', '1.0')], { timeoutMs: 2500 });
    expect(statuses(b.data)).toEqual([413]);
    expect(bodyOf(b.data)).toBe('big\n');
  });

  it('without an error_page: nginx\'s own 413 page, closed', async () => {
    const r = await raw(port(), [post('/plain') + NEXT], { timeoutMs: 2500 });
    expect(statuses(r.data)).toEqual([413]);
    expect(bodyOf(r.data)).toMatch(/<title>413 Request Entity Too Large<\/title>/);
    expect(r.closed).toBe(true);
  });
}

onEnginesAndNginx('error_page for a body over client_max_body_size', locations, checks);
