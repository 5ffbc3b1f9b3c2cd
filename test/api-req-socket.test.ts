// ngx.req.socket() (and ngx.socket.stream) on both engines and on real nginx 1.22 +
// lua-nginx-module 0.10.23 with the same expectations: the handlers are written twice (Lua, JS)
// and print the same text. What nginx answered decided every expectation here: reading past the
// body's end gives "closed" with the rest as partial data, then "closed" with none; '*a' at the
// end gives "" (not an error); a timeout keeps the socket; the client going away gives "client
// aborted"; no body, a read body, a chunked body and a subrequest are refused with nginx's texts.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, statuses } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { bodies, locations, post, reqSocketTresty } from './helpers/req-socket.js';

interface Target { port: number; errorLog(): string }

async function logged(t: Target, re: RegExp): Promise<string> {
  for (let i = 0; i < 250; i++) {
    const m = re.exec(t.errorLog());
    if (m) return m[1]!;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`not logged: ${re} in ${t.errorLog().slice(-2000)}`);
}

function checks(get: () => Target): void {
  const said = async (p: string, body: string | null, opts?: { chunked?: boolean }): Promise<string> => {
    const a = await post(get().port, p, body, opts);
    expect(a.status).toBe(200);
    return a.body;
  };

  it('receive(n): pieces, then "closed" with the rest as partial data, then "closed" with none', async () => {
    expect(await said('/sized', 'abcdefghij')).toBe('abcd|nil|nil efgh|nil|nil nil|closed|ij nil|closed|nil nil|closed|nil nil|closed|nil\n');
  });

  it("receive('*l'): lines without CR and LF; the last, unterminated, is the partial data", async () => {
    expect(await said('/line', 'ab\r\ncd\nef')).toBe('ab|nil|nil cd|nil|nil nil|closed|ef nil|closed|nil\n');
  });

  it("receive('*a'): the rest, then an empty string", async () => {
    expect(await said('/all', 'hello')).toBe('hello|nil|nil |nil|nil\n');
  });

  it('receiveany(max): what is there, at most max bytes, then "closed" (and "" as a third value)', async () => {
    expect(await said('/any', 'hello world')).toBe('hello|nil|nil  worl|nil|nil d|nil|nil nil|closed|\n');
  });

  it('receiveuntil: the data before each pattern, then "closed" with the rest', async () => {
    expect(await said('/until', 'xx--byy--bzz')).toBe('xx|nil|nil yy|nil|nil nil|closed|zz nil|closed|nil\n');
  });

  it('receive(0), two "*a" at the end, receive(1) past the end (partial ""), then "closed"', async () => {
    expect(await said('/zero', 'hello')).toBe('|nil|nil hello|nil|nil |nil|nil nil|closed| nil|closed|nil\n');
  });

  it('a multipart upload read as lua-resty-upload does (receiveuntil with a size, receive lines)', async () => {
    const body = '--XB\r\nContent-Disposition: form-data; name="f"\r\n\r\n0123456789\r\n--XB--\r\n';
    expect(await said('/upload', body)).toBe('--XB|nil|nil Content-Disposition: form-data; name="f"|nil|nil |nil|nil 012 345 678 9 end:nil --|nil|nil\n');
  });

  it('no body, a body read already, a chunked body: no socket, with nginx\'s reason', async () => {
    expect(await said('/sized', null)).toBe('socket: nil no body\n');
    expect(await said('/after_read', 'hello')).toBe('nil request body already exists\n');
    expect(await said('/after_read', null)).toBe('nil request body already exists\n');
    expect(await said('/twice', 'hello')).toBe('true nil nil request body already exists\n');
    expect(await said('/sized', 'hello', { chunked: true })).toBe('socket: nil chunked request bodies not supported yet\n');
  });

  it('a Content-Length over client_max_body_size is answered 413 before the handler makes a socket', async () => {
    const r = await raw(get().port, ['POST /sized HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\nabc'], { timeoutMs: 5000, answers: 1 });
    expect(statuses(r.data)).toEqual([413]);
    expect(r.data).not.toContain('socket');
  });

  it('read_body() after the socket read part of the body returns at once; get_body_data() is nil', async () => {
    expect(await said('/then_read', 'hello')).toBe('got hel data nil\n');
  });

  it('in rewrite_by and access_by; set_by gets the phase error; a subrequest raises', async () => {
    expect(await said('/rewrite', 'hello')).toBe('true nil he\n');
    expect(await said('/access', 'hello')).toBe('hello\n');
    expect(await said('/set', 'hello')).toMatch(/^false API disabled in the context of set_by_(lua|js)\*\n$/);
    expect(await said('/cap', null)).toBe('sub false attempt to read the request body in a subrequest\n');
  });

  it('a read timeout gives the partial data and leaves the socket usable (settimeout, settimeouts)', async () => {
    const r = await raw(get().port, ['POST /timeout HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\nConnection: close\r\n\r\nabc'], { timeoutMs: 5000 });
    expect(bodies(r.data)).toEqual(['nil|timeout|abc nil|timeout|\n']);
  });

  it('the client going away mid-body: "client aborted" with the partial data, then "closed"', async () => {
    // The close comes once the handler waits for more.
    await raw(get().port, ['POST /gone HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\nabc'], { timeoutMs: 1500, gapMs: 1000, endAfter: true });
    expect(await logged(get(), /gone result \[(.*?)\]/)).toBe('nil|client aborted|abc nil|closed|nil');
  });

  it('the client sent part of the body and closed before the first receive: all it sent is the partial data', async () => {
    // Bytes with the head and bytes after it; the close comes while the handler sleeps.
    await raw(get().port, ['POST /gone_early HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\nabc', 'de'], { timeoutMs: 1500, gapMs: 50, endAfter: true });
    expect(await logged(get(), /early result \[(.*?)\]/)).toBe('nil|client aborted|abcde nil|closed|nil');
  });

  it('keep-alive after the body was read whole, and after only part of it was (the rest is discarded)', async () => {
    for (const p of ['/sized', '/partial', '/all']) {
      const r = await raw(get().port, [`POST ${p} HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`], { timeoutMs: 5000 });
      expect(statuses(r.data)).toEqual([200, 200]);
      expect(bodies(r.data)[1]).toBe('hello\n');
    }
  });

  it('a socket used by another request raises "bad request"', async () => {
    const held = post(get().port, '/hold', 'hello');
    // Until /hold's handler has run (the machine may be slow).
    let used = 'not yet\n';
    for (let i = 0; i < 50 && used === 'not yet\n'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      used = await said('/use', null);
    }
    expect(used).toBe('use false bad request\n');
    expect((await held).body).toBe('held\n');
  });

  // The body is read whole first: with some of it unread nginx keeps the request alive while it
  // lingers on the connection, and a timer that runs then gets "bad request".
  it('a socket used after its request ended (in a timer) reads "closed"', async () => {
    expect(await said('/later', 'hello')).toBe('ok\n');
    expect(await logged(get(), /later \[(.*?)\]/)).toBe('nil|closed|nil');
  });

  it('ngx.socket.stream is ngx.socket.tcp', async () => {
    expect(await said('/stream', null)).toBe('true nil HTTP/1.1 200 OK\n');
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'ngx.req.socket()'), () => {
    const got = reqSocketTresty(e, '1m');
    checks(() => {
      const { port, t } = got();
      return { port, errorLog: () => { try { return fs.readFileSync(path.join(t.prefix, 'logs/error.log'), 'utf8'); } catch { return ''; } } };
    });
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`ngx.req.socket() on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(`client_max_body_size 1m;\n    lua_socket_log_errors off;\n    ${locations(true)}`); });
  afterAll(async () => { await n?.stop(); });
  checks(() => n);
});
