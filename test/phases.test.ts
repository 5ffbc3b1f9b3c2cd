// The request pipeline through the real server: the seeds' examples, ngx.exit in each phase,
// ngx.exec / ngx.redirect, rewrite-module ops, filters, errors, subrequests, static files.
import { phaseSuite, type Case } from './helpers/phases-harness.js';

const cases: Case[] = [
  {
    name: 'seed: ngx.ctx shared by rewrite, access and content (76 + 3 = 79)',
    conf: `location = /ctx {
      rewrite_by_js_block { ngx.ctx.foo = 76 }
      access_by_js_block { ngx.ctx.foo = ngx.ctx.foo + 3 }
      content_by_js_block { ngx.say(ngx.ctx.foo) }
    }`,
    requests: [{ path: '/ctx', status: 200, resBody: '79\n' }],
  },
  {
    name: 'seed: a variable set in rewrite is read in access (output there ends the request)',
    conf: `location = /var-seed {
      set $my_var "";
      rewrite_by_js_block { ngx.var.my_var = "from_rewrite" }
      access_by_js_block { ngx.say("access: " + ngx.var.my_var) }
      content_by_js_block { ngx.say("content: " + ngx.var.my_var) }
    }`,
    requests: [{ path: '/var-seed', status: 200, resBody: 'access: from_rewrite\n' }],
  },
  {
    name: 'a variable set in rewrite is read in access and content',
    conf: `location = /var {
      set $my_var "";
      rewrite_by_js_block { ngx.var.my_var = "from_rewrite" }
      access_by_js_block { ngx.ctx.seen = ngx.var.my_var }
      content_by_js_block { ngx.say(ngx.ctx.seen, " ", ngx.var.my_var) }
    }`,
    requests: [{ path: '/var', resBody: 'from_rewrite from_rewrite\n' }],
  },
  {
    name: 'seed: ngx.sleep in log_by_js logs "API disabled in the context of log_by_js*"',
    conf: `location = /log-sleep {
      content_by_js_block { ngx.say("ok") }
      log_by_js_block { ngx.sleep(1) }
    }`,
    requests: [{ path: '/log-sleep', status: 200, resBody: 'ok\n' }],
    errorLog: ['failed to run log_by_js*', 'API disabled in the context of log_by_js*'],
  },
  {
    name: 'ngx.exit(403) in rewrite skips access and content',
    conf: `location = /exit-rewrite {
      rewrite_by_js_block { ngx.exit(403) }
      access_by_js_block { ngx.log(ngx.ERR, "access ran") }
      content_by_js_block { ngx.say("content ran") }
    }`,
    requests: [{ path: '/exit-rewrite', status: 403, resBody: /403 Forbidden/ }],
    noErrorLog: ['access ran'],
  },
  {
    name: 'ngx.exit(ngx.OK) in rewrite goes on to the next phase',
    conf: `location = /exit-ok {
      rewrite_by_js_block { ngx.ctx.a = 1; ngx.exit(ngx.OK); ngx.ctx.a = 2 }
      content_by_js_block { ngx.say("a=", ngx.ctx.a) }
    }`,
    requests: [{ path: '/exit-ok', status: 200, resBody: 'a=1\n' }],
  },
  {
    name: 'ngx.exit(401) in access keeps the headers set before',
    conf: `location = /exit-access {
      access_by_js_block { ngx.header["WWW-Authenticate"] = 'Basic realm="x"'; ngx.exit(ngx.HTTP_UNAUTHORIZED) }
      content_by_js_block { ngx.say("secret") }
    }`,
    requests: [{ path: '/exit-access', status: 401, resHeaders: { 'www-authenticate': 'Basic realm="x"' } }],
  },
  {
    name: 'ngx.exit(200) in content after output ends the response; later code does not run',
    conf: `location = /exit-content {
      content_by_js_block { ngx.say("first"); ngx.exit(200); ngx.say("never") }
    }`,
    requests: [{ path: '/exit-content', status: 200, resBody: 'first\n' }],
  },
  {
    name: 'ngx.exit(204) in content with no output sends that status and no body',
    conf: `location = /exit-204 { content_by_js_block { ngx.exit(204) } }`,
    requests: [{ path: '/exit-204', status: 204, resBody: '' }],
  },
  {
    name: 'ngx.exit in header_filter only leaves the filter',
    conf: `location = /exit-hf {
      content_by_js_block { ngx.say("body") }
      header_filter_by_js_block { ngx.header["X-Before"] = "1"; ngx.exit(ngx.OK); ngx.header["X-After"] = "1" }
    }`,
    requests: [{ path: '/exit-hf', status: 200, resBody: 'body\n', resHeaders: { 'x-before': '1', 'x-after': undefined } }],
  },
  {
    name: 'ngx.exit is disabled in body_filter and log',
    conf: `location = /exit-bf {
      content_by_js_block { ngx.say("body") }
      body_filter_by_js_block { ngx.exit(500) }
      log_by_js_block { ngx.exit(500) }
    }`,
    requests: [{ path: '/exit-bf', status: 200, resBody: 'body\n' }],
    errorLog: ['API disabled in the context of body_filter_by_js*', 'API disabled in the context of log_by_js*'],
  },
  {
    name: 'ngx.exec to a URI with args starts a fresh ngx.ctx',
    conf: `location = /exec-from {
      rewrite_by_js_block { ngx.ctx.x = "parent"; ngx.exec("/exec-to?a=1", "b=2") }
    }
    location = /exec-to {
      content_by_js_block { ngx.say("uri=", ngx.var.uri, " args=", ngx.var.args, " ctx.x=", ngx.ctx.x ?? "nil") }
    }`,
    requests: [{ path: '/exec-from', status: 200, resBody: 'uri=/exec-to args=a=1&b=2 ctx.x=nil\n' }],
  },
  {
    name: 'ngx.exec to a named location',
    conf: `location = /exec-named { content_by_js_block { ngx.exec("@named") } }
    location @named { content_by_js_block { ngx.say("named ", ngx.var.uri) } }`,
    requests: [{ path: '/exec-named', status: 200, resBody: 'named /exec-named\n' }],
  },
  {
    name: 'an internal redirect loop stops with 500',
    conf: `location = /loop { content_by_js_block { ngx.exec("/loop") } }`,
    requests: [{ path: '/loop', status: 500 }],
    errorLog: ['rewrite or internal redirection cycle'],
  },
  {
    name: 'ngx.redirect: 302 by default, 301 on request; relative Location made absolute',
    conf: `location = /redir { rewrite_by_js_block { ngx.redirect("/target") } }
    location = /redir301 { content_by_js_block { ngx.redirect("http://example.com/x", ngx.HTTP_MOVED_PERMANENTLY) } }`,
    requests: [
      { path: '/redir', status: 302, resHeaders: { location: /^http:\/\/127\.0\.0\.1:\d+\/target$/ } },
      { path: '/redir301', status: 301, resHeaders: { location: 'http://example.com/x' } },
    ],
  },
  {
    name: 'set, set_by_js and return run in conf order with templates',
    conf: `location = /ops {
      set $a "A-$uri";
      set_by_js_block $sum $arg_x $arg_y { return Number(ngx.arg[1]) + Number(ngx.arg[2]) }
      return 200 "$a $sum\\n";
    }`,
    requests: [{ path: '/ops?x=2&y=40', status: 200, resBody: 'A-/ops 42\n' }],
  },
  {
    name: 'return: URL with a redirect code sets Location; a bare code gives nginx\'s page',
    conf: `location = /ret-url { return 307 https://example.org$uri; }
    location = /ret-404 { return 404; }`,
    requests: [
      { path: '/ret-url', status: 307, resHeaders: { location: 'https://example.org/ret-url' } },
      { path: '/ret-404', status: 404, resBody: /<center><h1>404 Not Found<\/h1><\/center>/ },
    ],
  },
  {
    name: 'a thrown error gives 500, logs phase and conf file:line, and the next request is fine',
    conf: `location = /throw {
      content_by_js_block {
        throw new Error("boom")
      }
    }
    location = /after-throw { content_by_js_block { ngx.say("fine") } }`,
    requests: [{ path: '/throw', status: 500 }, { path: '/after-throw', status: 200, resBody: 'fine\n' }],
    errorLog: [/failed to run content_by_js\*: \/.*nginx\.conf:\d+: Error: boom/, 'stack traceback:'],
  },
  {
    name: 'an error after the headers were sent cuts the response (status stays 200)',
    conf: `location = /throw-late {
      content_by_js_block { ngx.say("partial"); await ngx.flush(); throw new Error("late") }
    }`,
    requests: [{ path: '/throw-late', status: 200, resBody: 'partial\n' }],
    errorLog: ['Error: late'],
  },
  {
    name: 'errors in header_filter and log handlers are logged; the response is intact',
    conf: `location = /filter-throw {
      content_by_js_block { ngx.say("intact") }
      header_filter_by_js_block { throw new Error("hf-broke") }
      log_by_js_block { throw new Error("log-broke") }
    }`,
    requests: [{ path: '/filter-throw', status: 200, resBody: 'intact\n' }],
    errorLog: ['failed to run header_filter_by_js*', 'hf-broke', 'failed to run log_by_js*', 'log-broke'],
  },
  {
    name: 'writing an undeclared variable throws OpenResty\'s text',
    conf: `location = /undeclared { content_by_js_block { ngx.var.foo = 1 } }`,
    requests: [{ path: '/undeclared', status: 500 }],
    errorLog: [`variable "foo" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use "set $foo '';" in the config file to define it first`],
  },
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
    name: 'a server-level return answers before any location',
    conf: '',
    requests: [{ path: '/x?y=1', headers: { Host: 'other.test' }, status: 301, resHeaders: { location: 'https://other.test/x?y=1' } }],
  },
  {
    name: 'set_by_js_file with arguments',
    conf: `location = /set-file {
      set_by_js_file $joined js/join.mjs $uri "lit" $arg_z;
      return 200 "$joined";
    }`,
    requests: [{ path: '/set-file?z=Z', status: 200, resBody: '/set-file+lit+Z' }],
  },
  {
    name: 'a large static file is streamed with its length',
    conf: 'location = /big.txt { root html; }',
    requests: [{ path: '/big.txt', status: 200, resBody: /^y{300000}$/, resHeaders: { 'content-length': '300000', 'content-type': 'text/plain' } }],
  },
  {
    name: 'server-level ops run before the location is found',
    conf: `location = /server-set { content_by_js_block { ngx.say(ngx.var.srv) } }`,
    requests: [{ path: '/server-set', status: 200, resBody: 'srv-/server-set\n' }],
  },
];

phaseSuite('phases', {
  http: `types { application/x-custom cust; }
    server {
      listen 127.0.0.1:__PORT__;
      server_name other.test;
      return 301 https://$host$request_uri;
      location / { content_by_js_block { ngx.say("never") } }
    }`,
  server: 'set $srv "srv-$uri";',
  files: {
    'html/hello.txt': 'a file\n',
    'html/big.txt': 'y'.repeat(300000),
    'js/join.mjs': 'export default (ngx) => ngx.arg.slice(1).join("+");\n',
    'html/site/index.html': '<p>site</p>\n',
    'html/site/data.json': '{}',
    'html/site/x.cust': 'c',
    'html/noindex/x.txt': 'x',
  },
}, cases);
