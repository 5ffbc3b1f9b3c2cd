// The request pipeline through the real server: the seeds' examples, ngx.exit in each phase,
// ngx.exec / ngx.redirect, rewrite-module ops, errors. Output (filters, subrequests, static
// files) is in phases-output.test.ts.
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
    errorLog: ['failed to run log_by_js*: ', 'TrestyError: API disabled in the context of log_by_js* (TRESTY_ERR_HANDLER, TRESTY_ERR_API_DISABLED)'],
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
    // OpenResty: the body filter's failure aborts the response; the log handler's is logged only.
    requests: [{ path: '/exit-bf', aborted: true }],
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
    name: 'ngx.redirect: 302 by default, 301 on request; a relative Location stays relative (OpenResty)',
    conf: `location = /redir { rewrite_by_js_block { ngx.redirect("/target") } }
    location = /redir301 { content_by_js_block { ngx.redirect("http://example.com/x", ngx.HTTP_MOVED_PERMANENTLY) } }`,
    requests: [
      { path: '/redir', status: 302, resHeaders: { location: '/target' } },
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
    errorLog: [/js entry thread aborted: runtime error: \/.*nginx\.conf:\d+: Error: boom \(TRESTY_ERR_HANDLER\)/, 'stack traceback:'],
  },
  {
    name: 'an error after the headers were sent cuts the connection, so the client sees an incomplete response',
    conf: `location = /throw-late {
      content_by_js_block { ngx.say("partial"); await ngx.flush(); throw new Error("late") }
    }`,
    requests: [{ path: '/throw-late', aborted: true }],
    errorLog: ['Error: late'],
  },
  {
    name: 'an error in header_filter aborts the response (OpenResty); one in log_by_js is logged only',
    conf: `location = /filter-throw {
      content_by_js_block { ngx.say("intact") }
      header_filter_by_js_block { throw new Error("hf-broke") }
      log_by_js_block { throw new Error("log-broke") }
    }`,
    requests: [{ path: '/filter-throw', aborted: true }],
    errorLog: ['failed to run header_filter_by_js*: ', 'hf-broke (TRESTY_ERR_HANDLER)', 'failed to run log_by_js*: ', 'log-broke (TRESTY_ERR_HANDLER)'],
  },
  {
    name: 'writing an undeclared variable throws OpenResty\'s text',
    conf: `location = /undeclared { content_by_js_block { ngx.var.foo = 1 } }`,
    requests: [{ path: '/undeclared', status: 500 }],
    errorLog: [`variable "foo" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use "set $foo '';" in the config file to define it first`],
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
    name: 'server-level ops run before the location is found',
    conf: `location = /server-set { content_by_js_block { ngx.say(ngx.var.srv) } }`,
    requests: [{ path: '/server-set', status: 200, resBody: 'srv-/server-set\n' }],
  },
];

phaseSuite('phases', {
  http: `server {
      listen 127.0.0.1:__PORT__;
      server_name other.test;
      return 301 https://$host$request_uri;
      location / { content_by_js_block { ngx.say("never") } }
    }`,
  server: 'set $srv "srv-$uri";',
  files: {
    'js/join.mjs': 'export default (ngx) => ngx.arg.slice(1).join("+");\n',
  },
}, cases);
