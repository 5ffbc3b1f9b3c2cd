// The output side through the real server: header and body filters, subrequests, static files.
import { phaseSuite, type Case } from './helpers/phases-harness.js';

const cases: Case[] = [
  {
    name: 'header_filter changes status and headers; body_filter changes every chunk',
    conf: `location = /filters {
      content_by_js_block { ngx.header["X-Drop"] = "1"; ngx.print("hello "); await ngx.flush(); ngx.print("world") }
      header_filter_by_js_block { ngx.header["X-Drop"] = null; ngx.header["X-Added"] = "yes"; ngx.status = 201 }
      body_filter_by_js_block {
        ngx.arg[1] = ngx.arg[1].toUpperCase();
        if (ngx.arg[2]) ngx.arg[1] += "|eof";
      }
    }`,
    requests: [{ path: '/filters', status: 201, resBody: 'HELLO WORLD|eof', resHeaders: { 'x-added': 'yes', 'x-drop': undefined } }],
  },
  {
    name: 'a large body goes out in several chunks through the body filter, in order',
    conf: `location = /big {
      content_by_js_block { for (let i = 0; i < 100; i++) ngx.print(String(i % 10).repeat(2000)); }
      body_filter_by_js_block { ngx.ctx.n = (ngx.ctx.n || 0) + 1; if (ngx.arg[2]) ngx.arg[1] += "|" + (ngx.ctx.n > 2) }
    }`,
    requests: [{ path: '/big', status: 200, resBody: new RegExp(`^${Array.from({ length: 100 }, (_, i) => `${i % 10}{2000}`).join('')}\\|true$`) }],
  },
  {
    name: 'body_filter setting eof cuts the rest of the body',
    conf: `location = /filter-eof {
      content_by_js_block { ngx.print("keep"); await ngx.flush(); ngx.print("drop") }
      body_filter_by_js_block { if (ngx.arg[1] === "drop") { ngx.arg[1] = ""; } if (ngx.arg[1] === "keep") ngx.arg[2] = true }
    }`,
    requests: [{ path: '/filter-eof', status: 200, resBody: 'keep' }],
  },
  {
    name: 'filters run on static files and on return',
    conf: `location = /hello.txt {
      root html;
      body_filter_by_js_block { ngx.arg[1] = ngx.arg[1].replace("file", "FILE") }
      header_filter_by_js_block { ngx.header["X-Static"] = ngx.header.content_type }
    }`,
    requests: [{ path: '/hello.txt', status: 200, resBody: 'a FILE\n', resHeaders: { 'x-static': 'text/plain', 'content-length': '7' } }],
  },
  {
    name: 'subrequests: own ngx.ctx, status/headers/body captured, access skipped',
    conf: `location = /parent {
      content_by_js_block {
        ngx.ctx.p = "parent";
        const res = await ngx.location.capture("/sub", { args: { q: "1" } });
        ngx.say(res.status, " ", res.header["x-sub"], " ", res.body.trim(), " ctx.s=", ngx.ctx.s ?? "nil");
      }
    }
    location = /sub {
      access_by_js_block { ngx.exit(403) }
      content_by_js_block { ngx.ctx.s = "sub"; ngx.header["X-Sub"] = "h"; ngx.status = 202; ngx.say("q=", ngx.var.arg_q, " p=", ngx.ctx.p ?? "nil") }
    }`,
    requests: [{ path: '/parent', status: 200, resBody: '202 h q=1 p=nil ctx.s=nil\n' }],
  },
  {
    name: 'capture_multi runs subrequests concurrently and keeps the order',
    conf: `location = /multi {
      content_by_js_block {
        const t0 = Date.now();
        const [a, b] = await ngx.location.capture_multi([["/slow", { args: "n=a" }], ["/slow", { args: "n=b" }]]);
        ngx.say(a.body.trim(), b.body.trim(), Date.now() - t0 < 550 ? " concurrent" : " serial");
      }
    }
    location = /slow { content_by_js_block { await ngx.sleep(0.3); ngx.print(ngx.var.arg_n) } }`,
    requests: [{ path: '/multi', status: 200, resBody: 'ab concurrent\n' }],
  },
  {
    name: 'a subrequest cut after its headers is captured as truncated',
    conf: `location = /cut-parent {
      content_by_js_block {
        const r = await ngx.location.capture("/cut-child");
        ngx.say(r.status, " ", JSON.stringify(r.body), " truncated=", r.truncated);
      }
    }
    location = /cut-child { content_by_js_block { ngx.print("part"); await ngx.flush(); throw new Error("child broke") } }
    location = /whole-parent {
      content_by_js_block { const r = await ngx.location.capture("/whole-child"); ngx.say("truncated=", r.truncated) }
    }
    location = /whole-child { content_by_js_block { ngx.print("all") } }`,
    requests: [
      { path: '/cut-parent', status: 200, resBody: '200 "part" truncated=true\n' },
      { path: '/whole-parent', status: 200, resBody: 'truncated=false\n' },
    ],
    errorLog: ['child broke'],
  },
  {
    name: 'a subrequest can POST a body and use static files',
    conf: `location = /sub-post {
      content_by_js_block {
        const r1 = await ngx.location.capture("/echo-body", { method: ngx.HTTP_POST, body: "payload" });
        const r2 = await ngx.location.capture("/hello.txt");
        ngx.say(r1.body, "|", r2.status, "|", r2.body.trim());
      }
    }
    location = /echo-body { content_by_js_block { await ngx.req.read_body(); ngx.print(ngx.req.get_method(), ":", ngx.req.get_body_data()) } }`,
    requests: [{ path: '/sub-post', status: 200, resBody: 'POST:payload|200|a FILE\n' }],
  },
  {
    name: 'static files: index, 404, 403 without index, 301 for a directory, HEAD, MIME',
    conf: `location /site/ { root html; index index.html; }
    location /noindex/ { root html; index missing.html; }`,
    requests: [
      { path: '/site/', status: 200, resBody: '<p>site</p>\n', resHeaders: { 'content-type': 'text/html' } },
      { path: '/site/data.json', status: 200, resHeaders: { 'content-type': 'application/json' } },
      { path: '/site/x.cust', status: 200, resHeaders: { 'content-type': 'application/x-custom' } },
      { path: '/site/missing', status: 404 },
      { path: '/noindex/', status: 403 },
      { path: '/site', status: 301, resHeaders: { location: /\/site\/$/ } },
      { path: '/site/index.html', method: 'HEAD', status: 200, resBody: '', resHeaders: { 'content-length': '12' } },
      { path: '/site/index.html', method: 'POST', status: 405 },
      { path: '/site/index.html', headers: { 'If-Modified-Since': 'x' }, status: 200 },
    ],
  },
  {
    name: 'a large static file is streamed with its length',
    conf: 'location = /big.txt { root html; }',
    requests: [{ path: '/big.txt', status: 200, resBody: /^y{300000}$/, resHeaders: { 'content-length': '300000', 'content-type': 'text/plain' } }],
  },
];

phaseSuite('output', {
  http: 'types { application/x-custom cust; }',
  files: {
    'html/hello.txt': 'a file\n',
    'html/big.txt': 'y'.repeat(300000),
    'html/site/index.html': '<p>site</p>\n',
    'html/site/data.json': '{}',
    'html/site/x.cust': 'c',
    'html/noindex/x.txt': 'x',
  },
}, cases);
