// What follows nginx's special responses on a kept connection, on both engines and on nginx 1.22 +
// lua with the same expectations. Observed on nginx: its own page for 400, 413, 414, 500 and 501
// (`return`, ngx.exit, a handler's error, an oversized body, an error_page's answer for one of
// them) says `Connection: close`, a request pipelined behind it is not answered and the connection
// closes after it, HTTP/1.0 and HEAD alike (ngx_http_special_response_handler turns keep-alive off);
// a 404 / 502 page, or a 500 the handler writes a body for, keeps it. An Expect: 100-continue gets
// `100 Continue` before an answer that drops the body, none before a special response.
import { expect, it } from 'vitest';
import { raw, statuses } from './helpers/conn.js';
import { onEnginesAndNginx } from './helpers/three-servers.js';

const locations = (js: boolean): string => {
  const block = js ? 'content_by_js_block' : 'content_by_lua_block';
  const end = js ? ';' : '';
  return `client_max_body_size 10;
    lingering_timeout 1s;
    location = /ok { return 200 "ok"; }
    location = /ok2 { return 200 "ok2"; }
    location = /r500 { return 500; }
    location = /r501 { return 501; }
    location = /r400 { return 400; }
    location = /r404 { return 404; }
    location = /r502 { return 502; }
    location = /r500t { return 500 "t"; }
    location = /exit500 { ${block} { ngx.exit(500)${end} } }
    location = /exit413 { ${block} { ngx.exit(413)${end} } }
    location = /throw { ${block} { ${js ? 'throw new Error("boom");' : 'error("boom")'} } }
    location = /say500 { ${block} { ngx.status = 500${end} ngx.say("x")${end} } }
    location = /say { ${block} { ngx.say("y")${end} } }
    location = /ep { error_page 500 /ok2; return 500; }
    location = /ep-eq { error_page 500 = /ok2; return 500; }
    location = /ep404 { error_page 404 /r500; return 404; }`;
};

const get = (p: string, v = '1.1', m = 'GET'): string => `${m} ${p} HTTP/${v}\r\nHost: h\r\n${v === '1.0' ? 'Connection: keep-alive\r\n' : ''}\r\n`;
const NEXT = get('/ok');

/** `first`, then a pipelined GET /ok: what came back and whether the server closed. */
async function pipelined(port: number, first: string): Promise<{ data: string; closed: boolean; reset: boolean }> {
  return raw(port, [first + NEXT], { timeoutMs: 700 });
}

function checks(port: () => number): void {
  for (const [p, status] of [['/r500', 500], ['/r501', 501], ['/r400', 400], ['/exit500', 500], ['/exit413', 413], ['/throw', 500], ['/ep404', 500]] as const) {
    it(`${p}: ${status} with Connection: close, the pipelined request not answered, the connection closed`, async () => {
      const r = await pipelined(port(), get(p));
      expect(statuses(r.data)).toEqual([status]);
      expect(r.data).toMatch(/\r\nConnection: close\r\n/);
      expect(r.closed).toBe(true);
      expect(r.reset).toBe(false);
    });
  }

  it('an error_page for 500 answers with its target, and still closes (with `=` too)', async () => {
    const a = await pipelined(port(), get('/ep'));
    expect(statuses(a.data)).toEqual([500]);
    expect(a.data).toMatch(/Connection: close\r\n\r\nok2$/);
    expect(a.closed).toBe(true);
    const b = await pipelined(port(), get('/ep-eq'));
    expect(statuses(b.data)).toEqual([200]);
    expect(b.data).toMatch(/Connection: close\r\n\r\nok2$/);
    expect(b.closed).toBe(true);
  });

  it('HTTP/1.0 with keep-alive and HEAD close after a 500 too (HEAD: no body)', async () => {
    const a = await pipelined(port(), get('/r500', '1.0'));
    expect(statuses(a.data)).toEqual([500]);
    expect(a.data).toMatch(/\r\nConnection: close\r\n/);
    expect(a.closed).toBe(true);
    const b = await pipelined(port(), get('/exit500', '1.1', 'HEAD'));
    expect(statuses(b.data)).toEqual([500]);
    expect(b.data).toMatch(/Connection: close\r\n\r\n$/);
    expect(b.closed).toBe(true);
  });

  for (const p of ['/r404', '/r502', '/r500t', '/say500']) {
    it(`${p}: the connection is kept and the pipelined request answered`, async () => {
      const r = await pipelined(port(), get(p));
      expect(statuses(r.data)).toEqual([Number(p === '/r404' ? 404 : p === '/r502' ? 502 : 500), 200]);
      expect(r.data).not.toMatch(/Connection: close/);
      expect(r.closed).toBe(false);
    });
  }

  it('a body over client_max_body_size: 413 with Connection: close, the pipelined request not answered', async () => {
    const r = await pipelined(port(), `POST /say HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n${'b'.repeat(20)}`);
    expect(statuses(r.data)).toEqual([413]);
    expect(r.data).toMatch(/^HTTP\/1\.1 413 Request Entity Too Large\r\n[^]*Connection: close\r\n/);
    expect(r.closed).toBe(true);
  });

  it('a body still coming after the 500 is read and dropped (lingering close): a clean close, no reset', async () => {
    const r = await raw(port(), ['POST /r500 HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\n\r\n', 'bbbbbbbb'], { timeoutMs: 3000, gapMs: 300 });
    expect(statuses(r.data)).toEqual([500]);
    expect(r.closed).toBe(true);
    expect(r.reset).toBe(false);
  });

  const expect100 = (p: string, len: number): string => `POST ${p} HTTP/1.1\r\nHost: h\r\nContent-Length: ${len}\r\nExpect: 100-continue\r\n\r\n`;
  it('Expect: 100-continue: `100 Continue` before an answer that drops the body (return, a handler)', async () => {
    for (const p of ['/ok', '/say']) {
      const r = await raw(port(), [expect100(p, 3)], { timeoutMs: 400 });
      expect(statuses(r.data)).toEqual([100, 200]);
      expect(r.closed).toBe(false);
    }
  });

  it('Expect: 100-continue: none before a special response (404 kept, 500 and 413 closing)', async () => {
    const a = await raw(port(), [expect100('/r404', 3)], { timeoutMs: 400 });
    expect(statuses(a.data)).toEqual([404]);
    expect(a.data).toMatch(/Connection: keep-alive/);
    expect(a.closed).toBe(false);
    // The body it waits for is not read (nginx lingers for it up to lingering_timeout): closed.
    const b = await raw(port(), [expect100('/exit500', 3)], { timeoutMs: 2500 });
    expect(statuses(b.data)).toEqual([500]);
    expect(b.data).toMatch(/\r\nConnection: close\r\n/);
    expect(b.closed).toBe(true);
    const c = await raw(port(), [expect100('/say', 20)], { timeoutMs: 2500 });
    expect(statuses(c.data)).toEqual([413]);
    expect(c.closed).toBe(true);
  });
}

onEnginesAndNginx('the connection after a special response', locations, checks);
