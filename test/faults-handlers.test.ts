// Faults that must never cost a request (issue 11, items 2, 4 and 9), through the real server:
// a bad header or status set after an `await` still ends its request; subrequests stop at 50
// levels and when their client is gone; timers are capped at OpenResty's 1024 by default.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confFor, errorLogOf, phaseSuite, type Case } from './helpers/phases-harness.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

const cases: Case[] = [
  {
    name: 'a header value with a character above U+00FF, set after an await, is sent as UTF-8 bytes (as OpenResty)',
    conf: `location = /wide { content_by_js_block { await ngx.sleep(0.001); ngx.header["X-Wide"] = ngx.unescape_uri(ngx.var.arg_v); ngx.say("ok") } }`,
    requests: [{ path: '/wide?v=%E2%98%83', status: 200, resBody: 'ok\n', resHeaders: { 'x-wide': Buffer.from('\u2603').toString('latin1') } }],
  },
  {
    name: 'CR/LF and other control bytes in a header set after an await are escaped, never split the response',
    conf: `location = /crlf { content_by_js_block { await ngx.sleep(0.001); ngx.header["X-A"] = "a\\r\\nX-Injected: 1"; ngx.header["X B\\n"] = "v\\u0001"; ngx.say("ok") } }`,
    requests: [{ path: '/crlf', status: 200, resBody: 'ok\n', resHeaders: { 'x-a': 'a%0D%0AX-Injected: 1', 'x-injected': undefined, 'x%20b%0a': 'v%01' } }],
  },
  {
    name: 'ngx.redirect with a CR/LF after an await: a 500 and a log line naming the handler',
    conf: `location = /redir-late { content_by_js_block { await ngx.sleep(0.001); ngx.redirect("/x\\r\\nSet-Cookie: a=1") } }`,
    requests: [{ path: '/redir-late', status: 500, resHeaders: { 'set-cookie': undefined } }],
    errorLog: [/js entry thread aborted: runtime error: .*unsafe byte "0x0d" in redirect uri/],
  },
  {
    name: 'headers the engine refuses (a bad status) after an await: a 500 and a log line naming the handler',
    conf: `location = /bad-status { content_by_js_block { await ngx.sleep(0.001); ngx.status = 1000; ngx.say("x") } }
    location = /after { content_by_js_block { ngx.say("next ok") } }`,
    requests: [{ path: '/bad-status', status: 500, resBody: /500 Internal Server Error/ }, { path: '/after', status: 200, resBody: 'next ok\n' }],
    errorLog: [/failed to send the response headers set by content_by_js\*: .*1000/],
  },
  {
    name: 'a handler that fails after its headers went out: the connection is closed, the failure logged',
    conf: `location = /late-throw { content_by_js_block { ngx.say("part"); await ngx.flush(true); await ngx.sleep(0.001); throw new Error("late boom") } }`,
    requests: [{ path: '/late-throw', aborted: true }],
    errorLog: ['js entry thread aborted: runtime error: ', 'late boom (TRESTY_ERR_HANDLER)'],
  },
  {
    name: 'subrequests nest 50 levels at most: "subrequests cycle while processing", and every level still answers',
    conf: `location = /rec { content_by_js_block {
      await ngx.sleep(0.001);
      const n = Number(ngx.var.arg_n ?? 0);
      const res = await ngx.location.capture("/rec?n=" + (n + 1));
      ngx.print(n, ":", res.status, ";");
    } }`,
    requests: [{ path: '/rec?n=0', status: 200, resBody: '0:200;' }],
    errorLog: ['subrequests cycle while processing "/rec"', /failed to issue subrequest "\/rec\?n=51": subrequests cycle/],
  },
  {
    name: 'timers are capped at 1024 pending by default: 100,000 asked, 1024 accepted',
    conf: `location = /timers-100k { content_by_js_block {
      let ok = 0, refused = 0, why = "";
      for (let i = 0; i < 100000; i++) { const [y, e] = ngx.timer.at(3600, () => {}); if (y) ok++; else { refused++; why = e } }
      ngx.say(ok, " ", refused, " ", why, " ", ngx.timer.pending_count());
    } }`,
    requests: [{ path: '/timers-100k', resBody: '1024 98976 too many pending timers 1024\n' }],
    once: true,
  },
];

phaseSuite('handler faults end their request', {}, cases);

describe('subrequests stop when their client is gone', () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(confFor(port, {}, [{
      name: 'deep', requests: [],
      conf: `location = /deep { content_by_js_block {
        const n = Number(ngx.var.arg_n ?? 0);
        ngx.log(ngx.ERR, "DEEP level ", n);
        await ngx.sleep(0.05);
        try { await ngx.location.capture("/deep?n=" + (n + 1)) } catch (e) { ngx.log(ngx.ERR, "DEEP stop: ", e.message); throw e }
      } }`,
    }]));
  });
  afterAll(async () => { await t?.stop(); });

  it('a chain of captures started by a client that left stops at the next capture', async () => {
    const from = errorLogOf(t).length;
    const req = http.get({ host: '127.0.0.1', port, path: '/deep', agent: false });
    req.on('error', () => { /* we close it */ });
    const log = (): string => errorLogOf(t).slice(from);
    const until = async (pred: () => boolean): Promise<void> => {
      for (let i = 0; i < 400 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
    };
    await until(() => log().includes('DEEP level 2'));
    req.destroy();
    await until(() => log().includes('DEEP stop'));
    const text = log();
    expect(text).toContain('DEEP stop: failed to issue subrequest');
    expect(text).toContain('the client went away');
    const levels = [...text.matchAll(/DEEP level (\d+)/g)].map((m) => Number(m[1]));
    const max = Math.max(...levels);
    expect(max).toBeLessThan(50);
    // Nothing starts after the stop: the deepest level is the one that tried to go further.
    await new Promise((r) => setTimeout(r, 300));
    expect(Math.max(...[...log().matchAll(/DEEP level (\d+)/g)].map((m) => Number(m[1])))).toBe(max);
    expect(text).not.toContain('subrequests cycle');
    // The worker goes on serving.
    expect((await httpGet(port, '/deep?n=49')).status).toBe(200);
  });
});
