// nginx's limit_req and limit_conn as nginx 1.22 + lua-nginx-module answer them, checked with
// deterministic sequences (a rate of 1r/m drains nothing in a test's time; burst, nodelay, dry
// run; a request in flight holding a limit_conn place) rather than timing. The Lua form runs on
// real nginx with the same expectations, the JS form on both HTTP engines. Counters persist, so
// each case runs once, with a key of its own.
import { compatSuite } from './helpers/compat.js';
import { phaseSuite, type Case } from './helpers/phases-harness.js';

function both(name: string, conf: string, rest: Omit<Case, 'name' | 'conf' | 'lua'>): Case {
  const js = conf.replace(/content_by_X_block/g, 'content_by_js_block').replace(/\blocal /g, 'const ');
  const lua = conf.replace(/content_by_X_block/g, 'content_by_lua_block').replace(/await /g, '').replace(/\[line\]/g, 'line')
    .replace(/s\.(connect|send|receive|close)\(/g, 's:$1(').replace(/Number\(/g, 'tonumber(');
  return { name, conf: js, lua, once: true, ...rest };
}

const http = `
  limit_req_zone $arg_k zone=slow:64k rate=1r/m;
  limit_req_zone $arg_k zone=other:64k rate=1r/m;
  limit_conn_zone $arg_k zone=conns:64k;`;

const show = 'location = /show { content_by_X_block { ngx.say("show ", ngx.var.limit_req_status, " ", ngx.var.limit_conn_status) } }';

const cases: Case[] = [
  both('burst with nodelay: burst+1 go through at once, the next is refused with 503 and logged', `
    location = /nd { limit_req zone=slow burst=2 nodelay; error_page 503 =200 /show; content_by_X_block { ngx.say("ok ", ngx.var.limit_req_status) } }
    ${show}`, {
    requests: [
      { path: '/nd?k=a', resBody: 'ok PASSED\n' },
      { path: '/nd?k=a', resBody: 'ok PASSED\n' },
      { path: '/nd?k=a', resBody: 'ok PASSED\n' },
      // The error page's internal redirect is not counted again: $limit_req_status stays.
      { path: '/nd?k=a', resBody: 'show REJECTED nil\n' },
      { path: '/nd?k=b', resBody: 'ok PASSED\n' },
      { path: '/nd', resBody: 'ok nil\n' },
    ],
    errorLog: [/\[error\] .*limiting requests, excess: [23]\.\d{3} by zone "slow", client: 127\.0\.0\.1, server: localhost, request: "GET \/nd\?k=a HTTP\/1\.1"/],
  }),
  both('limit_req_status and limit_req_log_level; two limits in one location', `
    location = /st { limit_req zone=slow burst=1 nodelay; limit_req zone=other burst=5 nodelay; limit_req_status 429; limit_req_log_level warn; content_by_X_block { ngx.say("ok") } }`, {
    requests: [
      { path: '/st?k=c', status: 200 },
      { path: '/st?k=c', status: 200 },
      { path: '/st?k=c', status: 429, resBody: /429 Too Many Requests/ },
    ],
    errorLog: [/\[warn\] .*limiting requests, excess: [12]\.\d{3} by zone "slow"/],
  }),
  both('dry run: nothing refused or delayed, the status and the lines say what would be', `
    location = /dry { limit_req zone=slow burst=1 delay=1; limit_req_dry_run on; content_by_X_block { ngx.say(ngx.var.limit_req_status) } }`, {
    requests: [
      { path: '/dry?k=d', resBody: 'PASSED\n' },
      { path: '/dry?k=d', resBody: 'PASSED\n' },
      { path: '/dry?k=d', resBody: 'REJECTED_DRY_RUN\n' },
    ],
    errorLog: [/\[error\] .*limiting requests, dry run, excess: [12]\.\d{3} by zone "slow"/],
  }),
  both('dry run of a delay: logged one level below, not waited', `
    location = /dryd { limit_req zone=slow burst=5 delay=1; limit_req_dry_run on; content_by_X_block { ngx.say(ngx.var.limit_req_status) } }`, {
    requests: [
      { path: '/dryd?k=e', resBody: 'PASSED\n' },
      { path: '/dryd?k=e', resBody: 'PASSED\n' },
      { path: '/dryd?k=e', resBody: 'DELAYED_DRY_RUN\n' },
    ],
    errorLog: [/\[warn\] .*delaying request, dry run, excess: [12]\.\d{3}, by zone "slow"/],
  }),
  both('limit_conn: while a request holds the only place, another with the key is refused; the place is given back', `
    location = /hold { limit_conn conns 1; content_by_X_block {
      local s = ngx.socket.tcp();
      await s.connect("127.0.0.1", Number(ngx.var.server_port));
      await s.send("GET /c2?k=f HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n");
      local [line] = await s.receive();
      s.close();
      ngx.say(line, " ", ngx.var.limit_conn_status)
    } }
    location = /c2 { limit_conn conns 1; limit_conn_log_level info; content_by_X_block { ngx.say("c2 ", ngx.var.limit_conn_status) } }`, {
    requests: [
      { path: '/hold?k=f', resBody: 'HTTP/1.1 503 Service Temporarily Unavailable PASSED\n' },
      { path: '/c2?k=f', resBody: 'c2 PASSED\n' },
    ],
    errorLog: [/\[info\] .*limiting connections by zone "conns", client: 127\.0\.0\.1, server: localhost, request: "GET \/c2\?k=f HTTP\/1\.0"/],
  }),
];

compatSuite('limit_req, limit_conn', { http, luaHttp: http }, cases);
phaseSuite('limit_req, limit_conn on node:http', { http: `http_engine node; ${http}` }, cases);
