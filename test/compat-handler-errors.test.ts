// A handler's throw in each phase, as nginx + lua-nginx-module words it in error.log (`lua entry
// thread aborted: runtime error: ...` for rewrite/access/content and a timer, `lua user thread
// aborted:` for a light thread, `failed to run header_filter_by_lua*: ...` for the filters, log,
// set and balancer, `init_worker_by_lua error:` at start) and as tresty must (`js` for `lua`, the
// stable code closing the first line). Each case checks the whole entry's shape on both: the
// level, the request number, the words, the stack traceback, then the request's context at the
// end of the entry's last line.
import { describe, expect, it } from 'vitest';
import { compatSuite } from './helpers/compat.js';
import { abortedEntry, timerTail } from './helpers/handler-errors.js';
import { nginxMissing, startNginx } from './helpers/nginx.js';
import { type Case, confFor, errorLogOf } from './helpers/phases-harness.js';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, httpGet, startTresty } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';

/** One error-log entry whose first line says `words: ...msg...` and whose last line ends with the request's context. */
function entry(words: string, msg: string, path: string, code: boolean, tail = ''): RegExp {
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  // tresty's first line ends with the code; nginx's with the message.
  const first = `\\[error\\] \\d+#\\d+: \\*\\d+ ${esc(words)}: [^\\n]*${esc(msg)}${code ? ' \\(TRESTY_ERR_HANDLER\\)' : ''}\\n`;
  // The traceback's lines, none of them a new entry (a date) until the context closes this one.
  const trace = 'stack traceback:\\n(?:(?!\\d{4}/\\d\\d/\\d\\d )[^\\n]*\\n)*?';
  const context = `[^\\n]*${esc(tail)}, client: 127\\.0\\.0\\.1, server: localhost, request: "GET ${esc(path)} HTTP/1\\.1", host: "[^"]+"\\n`;
  return new RegExp(first + trace + context);
}

type Shape = [words: string, msg: string, path: string, tail?: string];

/** The case's expectations: `js` and the code on tresty, `lua` and no code on nginx. */
function lines(...shapes: Shape[]): Pick<Case, 'errorLog' | 'luaErrorLog'> {
  return {
    errorLog: shapes.map(([w, m, p, t]) => entry(w.replace('LANG', 'js'), m, p, true, t)),
    luaErrorLog: shapes.map(([w, m, p, t]) => entry(w.replace('LANG', 'lua'), m, p, false, t)),
  };
}

/** A throw in `phase` (after a wait when `wait`): the entry thread aborting, a 500. */
function entryCase(phase: 'rewrite' | 'access' | 'content', wait: boolean): Case {
  const where = `/he-${phase}`;
  const msg = `he-${phase} boom`;
  return {
    name: `${phase}: a throw${wait ? ' after a wait' : ''} is the entry thread aborting, a 500`,
    conf: `location = ${where} { ${phase}_by_js_block { ${wait ? 'await ngx.sleep(0.001); ' : ''}throw new Error("${msg}"); } }`,
    lua: `location = ${where} { ${phase}_by_lua_block { ${wait ? 'ngx.sleep(0.001) ' : ''}error("${msg}") } }`,
    requests: [{ path: where, status: 500 }],
    ...lines(['LANG entry thread aborted: runtime error', msg, where]),
  };
}

const cases: Case[] = [
  entryCase('rewrite', false),
  entryCase('access', true),
  entryCase('content', false),
  {
    name: 'a light thread: a throw is the user thread aborting; its parent answers',
    conf: `location = /he-thread { content_by_js_block {
      ngx.thread.spawn(async () => { await ngx.sleep(0.001); throw new Error("he-thread boom"); });
      ngx.say("parent");
    } }`,
    lua: `location = /he-thread { content_by_lua_block {
      ngx.thread.spawn(function() ngx.sleep(0.001) error("he-thread boom") end)
      ngx.say("parent")
    } }`,
    requests: [{ path: '/he-thread', status: 200, resBody: 'parent\n' }],
    ...lines(['LANG user thread aborted: runtime error', 'he-thread boom', '/he-thread']),
  },
  {
    name: 'header_filter: "failed to run header_filter_by_*", the response aborted',
    conf: 'location = /he-hf { content_by_js_block { ngx.say("body"); } header_filter_by_js_block { throw new Error("he-hf boom"); } }',
    lua: 'location = /he-hf { content_by_lua_block { ngx.say("body") } header_filter_by_lua_block { error("he-hf boom") } }',
    requests: [{ path: '/he-hf', aborted: true }],
    ...lines(['failed to run header_filter_by_LANG*', 'he-hf boom', '/he-hf']),
  },
  {
    name: 'log: "failed to run log_by_*" while logging the request; the answer stands',
    conf: 'location = /he-log { content_by_js_block { ngx.say("kept"); } log_by_js_block { throw new Error("he-log boom"); } }',
    lua: 'location = /he-log { content_by_lua_block { ngx.say("kept") } log_by_lua_block { error("he-log boom") } }',
    requests: [{ path: '/he-log', status: 200, resBody: 'kept\n' }],
    ...lines(['failed to run log_by_LANG*', 'he-log boom', '/he-log', ' while logging request']),
  },
  {
    name: 'ngx.log in log_by_*: the line says "while logging request" before the context',
    conf: 'location = /he-log-line { content_by_js_block { ngx.say("kept"); } log_by_js_block { ngx.log(ngx.ERR, "he-log-line"); } }',
    lua: 'location = /he-log-line { content_by_lua_block { ngx.say("kept") } log_by_lua_block { ngx.log(ngx.ERR, "he-log-line") } }',
    requests: [{ path: '/he-log-line', status: 200, resBody: 'kept\n' }],
    errorLog: [/\[error\] \d+#\d+: \*\d+ \[(js|lua)\] \S+ he-log-line while logging request, client: 127\.0\.0\.1, server: localhost, request: "GET \/he-log-line HTTP\/1\.1", host: "[^"]+"\n/],
  },
  {
    name: 'body_filter: "failed to run body_filter_by_*", the response aborted',
    conf: 'location = /he-bf { content_by_js_block { ngx.say("a"); ngx.say("b"); } body_filter_by_js_block { if (ngx.arg[1] === "b\\n") throw new Error("he-bf boom"); } }',
    lua: 'location = /he-bf { content_by_lua_block { ngx.say("a") ngx.say("b") } body_filter_by_lua_block { if ngx.arg[1] == "b\\n" then error("he-bf boom") end } }',
    requests: [{ path: '/he-bf', aborted: true }],
    ...lines(['failed to run body_filter_by_LANG*', 'he-bf boom', '/he-bf']),
  },
  {
    name: 'set: "failed to run set_by_*", a 500',
    conf: 'location = /he-set { set_by_js_block $he { throw new Error("he-set boom"); } return 200 "$he"; }',
    lua: 'location = /he-set { set_by_lua_block $he { error("he-set boom") } return 200 "$he"; }',
    requests: [{ path: '/he-set', status: 500 }],
    ...lines(['failed to run set_by_LANG*', 'he-set boom', '/he-set']),
  },
  {
    name: 'balancer: "failed to run balancer_by_*" while connecting to upstream, a 500',
    conf: 'location = /he-balancer { proxy_pass http://he_balancer; }',
    lua: 'location = /he-balancer { proxy_pass http://he_balancer; }',
    requests: [{ path: '/he-balancer', status: 500 }],
    ...lines(['failed to run balancer_by_LANG*', 'he-balancer boom', '/he-balancer', ' while connecting to upstream']),
  },
  {
    name: 'an API disabled in the phase: nginx\'s words, and on tresty the API\'s own code after TRESTY_ERR_HANDLER',
    conf: 'location = /he-disabled { content_by_js_block { ngx.say("kept"); } log_by_js_block { ngx.say("late"); } }',
    lua: 'location = /he-disabled { content_by_lua_block { ngx.say("kept") } log_by_lua_block { ngx.say("late") } }',
    requests: [{ path: '/he-disabled', status: 200, resBody: 'kept\n' }],
    errorLog: [/\*\d+ failed to run log_by_js\*: \S+:\d+: TrestyError: API disabled in the context of log_by_js\* \(TRESTY_ERR_HANDLER, TRESTY_ERR_API_DISABLED\)\n/],
    luaErrorLog: [/\*\d+ failed to run log_by_lua\*: \S+:\d+: API disabled in the context of log_by_lua\*\n/],
  },
  {
    name: 'a thrown value that is not an Error: its fields on tresty (nginx: "unknown reason" for a table)',
    conf: 'location = /he-object { content_by_js_block { throw { he: "object", n: 7 }; } }',
    lua: 'location = /he-object { content_by_lua_block { error({ he = "object", n = 7 }) } }',
    requests: [{ path: '/he-object', status: 500 }],
    errorLog: [/\*\d+ js entry thread aborted: runtime error: \S+:\d+: \{ he: 'object', n: 7 \} \(TRESTY_ERR_HANDLER\), client: /],
    luaErrorLog: [/\*\d+ lua entry thread aborted: runtime error: unknown reason\n/],
  },
  {
    name: 'a timer callback: the entry thread aborting in the context of ngx.timer',
    conf: 'location = /he-timer { content_by_js_block { ngx.timer.at(0, () => { throw new Error("he-timer boom"); }); ngx.say("set"); } }',
    lua: 'location = /he-timer { content_by_lua_block { ngx.timer.at(0, function() error("he-timer boom") end) ngx.say("set") } }',
    requests: [{ path: '/he-timer', status: 200, resBody: 'set\n' }],
    // nginx gives each run of a timer a fake connection: its own `*N`, and the client and listen
    // address of the request that made it.
    errorLog: [timerEntry('js', true)],
    luaErrorLog: [timerEntry('lua', false)],
  },
  {
    name: 'a light thread of a timer callback: the user thread aborting in the context of ngx.timer',
    conf: `location = /he-timer-thread { content_by_js_block {
      ngx.timer.at(0, () => { ngx.thread.spawn(async () => { await ngx.sleep(0.001); throw new Error("he-timer-thread boom"); }); });
      ngx.say("set");
    } }`,
    lua: `location = /he-timer-thread { content_by_lua_block {
      ngx.timer.at(0, function() ngx.thread.spawn(function() ngx.sleep(0.001) error("he-timer-thread boom") end) end)
      ngx.say("set")
    } }`,
    requests: [{ path: '/he-timer-thread', status: 200, resBody: 'set\n' }],
    errorLog: [timerEntry('js', true, 'user', 'he-timer-thread boom')],
    luaErrorLog: [timerEntry('lua', false, 'user', 'he-timer-thread boom')],
  },
];

/** A timer's entry: its own `*N`, `context: ngx.timer` and the client and listen address of the request that made it. */
function timerEntry(lang: string, code: boolean, thread = 'entry', msg = 'he-timer boom'): RegExp {
  return abortedEntry(lang, code, msg, timerTail(true), thread);
}

compatSuite('a handler\'s throw in the error log', {
  http: 'upstream he_balancer { server 127.0.0.1:1; balancer_by_js_block { throw new Error("he-balancer boom"); } }',
  luaHttp: 'upstream he_balancer { server 127.0.0.1:1; balancer_by_lua_block { error("he-balancer boom") } }',
}, cases);

describe('init_worker: "init_worker_by_* error:" at start, no request', () => {
  it('on tresty, with the code', async () => {
    const t = await startTresty(confFor(await freePort(), { http: 'init_worker_by_js_block { throw new Error("he-iw boom"); }' }, []));
    try {
      expect(await eventually(() => errorLogOf(t), /he-iw boom/)).toMatch(initWorkerEntry('js', true));
    } finally { await t.stop(); }
  });
  it.skipIf(nginxMissing() !== null)('on nginx + lua', async () => {
    const n = await startNginx('location = / { return 204; }', 'init_worker_by_lua_block { error("he-iw boom") }');
    try {
      expect(await eventually(() => n.errorLog(), /he-iw boom/)).toMatch(initWorkerEntry('lua', false));
    } finally { await n.stop(); }
  });
});

function initWorkerEntry(lang: string, code: boolean): RegExp {
  return new RegExp(`\\[error\\] \\d+#\\d+: init_worker_by_${lang} error: [^\\n]*he-iw boom${code ? ' \\(TRESTY_ERR_HANDLER\\)' : ''}\\nstack traceback:\\n`);
}

describe('a handler file broken after start, code cache off: "failed to load external * file", a 500', () => {
  const loadEntry = (lang: string, file: string, code: boolean): RegExp => new RegExp(
    // Node 20 gives a dynamic import's SyntaxError no `file:line` (a .ts file's, from its
    // transpiler, has one): tresty names the line when the error does.
    `\\[error\\] \\d+#\\d+: \\*\\d+ failed to load external ${lang} file "[^"]*${file}": ${code ? '' : `[^\\n]*${file}:\\d+: `}[^\\n]*`
    + `${code ? ' \\(TRESTY_ERR_HANDLER, TRESTY_ERR_CONF_HANDLER\\)' : ''}, client: 127\\.0\\.0\\.1, server: localhost, request: "GET /he-load HTTP/1\\.1"`);
  it('on tresty, with the code', async () => {
    const port = await freePort();
    const t = await startTresty(confFor(port, {}, [{ name: 'x', requests: [], conf: 'location = /he-load { js_code_cache off; content_by_js_file js/he-load.mjs; }' }]),
      { files: { 'js/he-load.mjs': 'export default (ngx) => ngx.say("v1");\n' } });
    try {
      fs.writeFileSync(path.join(t.prefix, 'js/he-load.mjs'), 'export default (ngx) => { ngx.say("v2" };\n');
      expect((await httpGet(port, '/he-load')).status).toBe(500);
      expect(await eventually(() => errorLogOf(t), /he-load\.mjs"/)).toMatch(loadEntry('js', 'he-load\\.mjs', true));
    } finally { await t.stop(); }
  });
  it.skipIf(nginxMissing() !== null)('on nginx + lua', async () => {
    const n = await startNginx('server_name localhost; location = /he-load { lua_code_cache off; content_by_lua_file __PREFIX__/he-load.lua; }', '', { 'he-load.lua': 'ngx.say("v1")\n' });
    try {
      fs.writeFileSync(path.join(n.prefix, 'he-load.lua'), 'ngx.say("v2"\n');
      expect((await httpGet(n.port, '/he-load')).status).toBe(500);
      expect(await eventually(() => n.errorLog(), /he-load\.lua"/)).toMatch(loadEntry('Lua', 'he-load\\.lua', false));
    } finally { await n.stop(); }
  });
});

describe('a handler file gone after start, code cache off: "cannot open", a 404', () => {
  const goneEntry = (lang: string, file: string, code: boolean): RegExp => new RegExp(
    `\\[error\\] \\d+#\\d+: \\*\\d+ failed to load external ${lang} file "([^"]*${file})": cannot open \\1: No such file or directory`
    + `${code ? ' \\(TRESTY_ERR_HANDLER, TRESTY_ERR_CONF_HANDLER\\)' : ''}, client: 127\\.0\\.0\\.1, server: localhost, request: "GET /he-gone HTTP/1\\.1"`);
  it('on tresty, with the code', async () => {
    const port = await freePort();
    const t = await startTresty(confFor(port, {}, [{ name: 'x', requests: [], conf: 'location = /he-gone { js_code_cache off; rewrite_by_js_file js/he-gone.mjs; }' }]),
      { files: { 'js/he-gone.mjs': 'export default (ngx) => {};\n' } });
    try {
      fs.rmSync(path.join(t.prefix, 'js/he-gone.mjs'));
      expect((await httpGet(port, '/he-gone')).status).toBe(404);
      expect(await eventually(() => errorLogOf(t), /he-gone\.mjs"/)).toMatch(goneEntry('js', 'he-gone\\.mjs', true));
    } finally { await t.stop(); }
  });
  it.skipIf(nginxMissing() !== null)('on nginx + lua', async () => {
    const n = await startNginx('server_name localhost; location = /he-gone { lua_code_cache off; rewrite_by_lua_file __PREFIX__/he-gone.lua; }');
    try {
      expect((await httpGet(n.port, '/he-gone')).status).toBe(404);
      expect(await eventually(() => n.errorLog(), /he-gone\.lua"/)).toMatch(goneEntry('Lua', 'he-gone\\.lua', false));
    } finally { await n.stop(); }
  });
});
