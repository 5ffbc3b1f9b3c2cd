// The ngx API through the real server: ngx.req.*, ngx.var built-ins, ngx.header, ngx.status,
// phase guards, time, worker info, logging, and isolation between concurrent requests.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confFor, phaseSuite, type Case } from './helpers/phases-harness.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

const cases: Case[] = [
  {
    name: 'ngx.req: method, headers (case-insensitive, arrays), uri args (repeated keys, flags)',
    conf: `location = /req {
      content_by_js_block {
        const h = ngx.req.get_headers();
        const a = ngx.req.get_uri_args();
        ngx.say(ngx.req.get_method(), " ", h["x-one"], h["X-One"], h.x_one, " ", JSON.stringify(a));
      }
    }`,
    requests: [{ path: '/req?a=1&a=2&flag&b=x%20y', headers: { 'X-One': 'v1' }, resBody: 'GET v1v1v1 {"a":["1","2"],"flag":true,"b":"x y"}\n' }],
  },
  {
    name: 'ngx.req.set_header / clear_header are seen by $http_* and get_headers',
    conf: `location = /set-header {
      rewrite_by_js_block { ngx.req.set_header("X-Added", "yes"); ngx.req.clear_header("X-Gone") }
      content_by_js_block { ngx.say(ngx.var.http_x_added, " ", ngx.req.get_headers()["x-gone"] ?? "nil") }
    }`,
    requests: [{ path: '/set-header', headers: { 'X-Gone': '1' }, resBody: 'yes nil\n' }],
  },
  {
    name: 'ngx.req.set_uri_args and set_uri change $args and $uri',
    conf: `location = /set-uri {
      rewrite_by_js_block { ngx.req.set_uri_args({ k: "v w" }); ngx.req.set_uri("/changed") }
      content_by_js_block { ngx.say(ngx.var.uri, "?", ngx.var.args) }
    }`,
    requests: [{ path: '/set-uri?old=1', resBody: '/changed?k=v%20w\n' }],
  },
  {
    name: 'ngx.req.set_uri(uri, true) in rewrite jumps to the new location, keeping ngx.ctx',
    conf: `location = /jump { rewrite_by_js_block { ngx.ctx.kept = "yes"; ngx.req.set_uri("/jumped", true) } }
    location = /jumped { content_by_js_block { ngx.say("jumped ctx=", ngx.ctx.kept) } }`,
    requests: [{ path: '/jump', resBody: 'jumped ctx=yes\n' }],
  },
  {
    name: 'ngx.req.read_body, get_body_data, get_post_args; get_post_args before reading throws',
    conf: `location = /body {
      content_by_js_block {
        await ngx.req.read_body();
        ngx.say(ngx.req.get_body_data(), " ", JSON.stringify(ngx.req.get_post_args()));
      }
    }
    location = /body-unread { content_by_js_block { ngx.req.get_post_args() } }
    location = /body-set { content_by_js_block { await ngx.req.read_body(); ngx.req.set_body_data("k=v"); ngx.say(ngx.req.get_post_args().k) } }`,
    requests: [
      { path: '/body', method: 'POST', body: 'a=1&b=two', headers: { 'content-type': 'application/x-www-form-urlencoded' }, resBody: 'a=1&b=two {"a":"1","b":"two"}\n' },
      { path: '/body-unread', method: 'POST', body: 'x=1', status: 500 },
      { path: '/body-set', resBody: 'v\n' },
    ],
    errorLog: ['no request body found'],
  },
  {
    name: 'ngx.var built-ins',
    conf: `location = /vars {
      content_by_js_block {
        const v = ngx.var;
        ngx.say([v.uri, v.args, v.arg_a, v.is_args, v.query_string, v.request_uri, v.request_method, v.scheme,
          v.host, v.remote_addr, v.http_user_agent, v.cookie_c, v.request, v.server_name, v.content_type ?? "nil",
          v.nonexistent ?? "nil", typeof v.request_time, v.pid === String(process.pid), v.server_port === v.server_port].join("|"));
      }
    }`,
    requests: [{ path: '/vars?a=1', headers: { 'User-Agent': 'ua/1', Cookie: 'b=2; c=3' },
      resBody: '/vars|a=1|1|?|a=1|/vars?a=1|GET|http|127.0.0.1|127.0.0.1|ua/1|3|GET /vars?a=1 HTTP/1.1|localhost|nil|nil|string|true|true\n' }],
  },
  {
    name: 'ngx.header: case-insensitive, multi-value arrays, null clears, underscores as hyphens',
    conf: `location = /headers {
      content_by_js_block {
        ngx.header["Set-Cookie"] = ["a=1", "b=2"];
        ngx.header.x_custom = "c";
        ngx.header["X-Temp"] = "t"; ngx.header["x-temp"] = null;
        ngx.header.content_type = "application/json";
        ngx.say(ngx.header["X-CUSTOM"], " ", ngx.header["set-cookie"].length, " ", Object.keys(ngx.resp.get_headers()).join(","));
      }
    }`,
    requests: [{ path: '/headers', resBody: 'c 2 content-type,connection,set-cookie,x-custom\n', resHeaders: { 'x-custom': 'c', 'set-cookie': 'a=1, b=2', 'x-temp': undefined, 'content-type': 'application/json' } }],
  },
  {
    name: 'ngx.status sets the status; after output it is logged and ignored',
    conf: `location = /status { content_by_js_block { ngx.status = 418; ngx.say("teapot"); ngx.status = 500 } }`,
    requests: [{ path: '/status', status: 418, resBody: 'teapot\n' }],
    errorLog: ['attempt to set ngx.status after sending out response headers'],
  },
  {
    name: 'setting a header after output is logged, not thrown',
    conf: `location = /late-header { content_by_js_block { ngx.say("x"); ngx.header["X-Late"] = "1"; ngx.say("y") } }`,
    requests: [{ path: '/late-header', status: 200, resBody: 'x\ny\n', resHeaders: { 'x-late': undefined } }],
    errorLog: ['attempt to set ngx.header.HEADER after sending out response headers'],
  },
  {
    name: 'phase guards: ngx.arg in content; ngx.say in header_filter and ngx.sleep in body_filter abort the response',
    conf: `location = /guards {
      content_by_js_block { try { ngx.arg } catch (e) { ngx.say(e.message, " ", e.code) } }
    }
    location = /guards-hf { content_by_js_block { ngx.say("x") } header_filter_by_js_block { ngx.say("no") } }
    location = /guards-bf { content_by_js_block { ngx.say("x") } body_filter_by_js_block { ngx.sleep(0.1) } }`,
    requests: [
      { path: '/guards', status: 200, resBody: 'API disabled in the context of content_by_js* TRESTY_ERR_API_DISABLED\n' },
      { path: '/guards-hf', aborted: true },
      { path: '/guards-bf', aborted: true },
    ],
    errorLog: ['API disabled in the context of header_filter_by_js*', 'API disabled in the context of body_filter_by_js*'],
  },
  {
    name: 'ngx.eof ends the response; the handler goes on after it',
    conf: `location = /eof { content_by_js_block { globalThis.afterEof = "no"; ngx.say("early"); await ngx.eof(); ngx.say("dropped"); await ngx.sleep(0.05); globalThis.afterEof = "ran" } }
    location = /after-eof { content_by_js_block { await ngx.sleep(0.1); ngx.say(globalThis.afterEof) } }`,
    requests: [{ path: '/eof', resBody: 'early\n' }, { path: '/after-eof', resBody: 'ran\n' }],
  },
  {
    name: 'ngx.re on the ngx object',
    conf: `location = /re { content_by_js_block { const m = ngx.re.match(ngx.var.uri, "^/re/?(\\w*)$"); ngx.say(m ? "m=" + m[0] : "nil", " ", ngx.re.gsub("a-b-c", "-", "+")[0]) } }`,
    requests: [{ path: '/re', resBody: 'm=/re a+b+c\n' }],
  },
  {
    name: 'time APIs',
    conf: `location = /time {
      content_by_js_block {
        const ok = Math.abs(ngx.now() - Date.now() / 1000) < 2 && Number.isInteger(ngx.time())
          && /^\\d{4}-\\d\\d-\\d\\d$/.test(ngx.today()) && ngx.http_time(0) === "Thu, 01 Jan 1970 00:00:00 GMT"
          && ngx.cookie_time(0) === "Thu, 01-Jan-70 00:00:00 GMT" && ngx.utctime().length === 19 && ngx.parse_http_time("Thu, 01 Jan 1970 00:00:10 GMT") === 10;
        ngx.update_time();
        ngx.say(ok);
      }
    }`,
    requests: [{ path: '/time', resBody: 'true\n' }],
  },
  {
    name: 'ngx.worker and ngx.log (with the handler line)',
    conf: `location = /worker {
      content_by_js_block {
        ngx.log(ngx.WARN, "hello from ", "worker ", ngx.worker.id());
        ngx.say(ngx.worker.id(), " ", ngx.worker.count(), " ", ngx.worker.pid() === process.pid, " ", ngx.worker.exiting());
      }
    }`,
    requests: [{ path: '/worker', resBody: '0 1 true false\n' }],
    errorLog: [/\[warn\] .*\[js\] .*nginx\.conf:\d+: hello from worker 0/],
  },
];

phaseSuite('ngx api', {}, cases);

describe('ngx api: concurrency', () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(confFor(port, {}, [{
      name: 'c',
      requests: [],
      conf: `location = /sleep {
        set $who "";
        rewrite_by_js_block { ngx.ctx.who = ngx.var.arg_who; ngx.var.who = ngx.var.arg_who; ngx.header["X-Who"] = ngx.var.arg_who }
        content_by_js_block { await ngx.sleep(0.5); ngx.say(ngx.ctx.who, " ", ngx.var.who, " ", ngx.header["X-Who"], " ", ngx.var.http_x_id) }
      }
      location = /abortable { content_by_js_block { globalThis.aborted = "no"; ngx.on_abort(() => { globalThis.aborted = "yes" }); await ngx.sleep(1); ngx.say("late") } }
      location = /aborted { content_by_js_block { ngx.say(globalThis.aborted) } }
      location = /stream-body { client_max_body_size 0; content_by_js_block { let n = 0, bytes = 0; for await (const c of ngx.req.body_stream()) { n++; bytes += c.byteLength } ngx.say(n > 1, " ", bytes, " ", ngx.req.get_body_data()) } }
      location = /small { client_max_body_size 10; content_by_js_block { await ngx.req.read_body(); ngx.say("read ", ngx.req.get_body_data().length) } }`,
    }]));
  });
  afterAll(async () => { await t?.stop(); });

  it('a chunked body past client_max_body_size gets 413 from read_body', async () => {
    const res = await new Promise<{ status: number }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/small', method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, agent: false }, (r) => {
        r.resume();
        r.on('end', () => resolve({ status: r.statusCode ?? 0 }));
      });
      req.on('error', reject);
      req.write('0123456789');
      req.end('0123456789');
    });
    expect(res.status).toBe(413);
    expect((await httpGet(port, '/small', { method: 'POST', body: 'tiny' })).body).toBe('read 4\n');
  });

  it('ngx.req.body_stream hands out the body as it arrives', async () => {
    const res = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/stream-body', method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, agent: false }, (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => { body += d; });
        r.on('end', () => resolve(body));
      });
      req.on('error', reject);
      const piece = Buffer.alloc(256 * 1024, 97);
      let i = 0;
      const pump = (): void => {
        while (i < 8) { i++; if (!req.write(piece)) { req.once('drain', pump); return; } }
        req.end();
      };
      pump();
    });
    expect(res).toBe(`true ${8 * 256 * 1024} nil\n`);
  });

  it('ngx.on_abort runs when the client goes away', async () => {
    await new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/abortable', agent: false });
      req.on('error', () => resolve());
      setTimeout(() => { req.destroy(); resolve(); }, 200);
    });
    await expect.poll(async () => (await httpGet(port, '/aborted')).body, { timeout: 3000 }).toBe('yes\n');
  });

  it('two requests each sleeping 0.5 s finish well under 1 s on one worker, each with its own state', async () => {
    for (let round = 0; round < 2; round++) {
      const t0 = Date.now();
      const [a, b] = await Promise.all([
        httpGet(port, '/sleep?who=a', { headers: { 'X-Id': '1' } }),
        httpGet(port, '/sleep?who=b', { headers: { 'X-Id': '2' } }),
      ]);
      const took = Date.now() - t0;
      expect(a.body).toBe('a a a 1\n');
      expect(b.body).toBe('b b b 2\n');
      expect(took).toBeLessThan(900);
    }
  });
});
