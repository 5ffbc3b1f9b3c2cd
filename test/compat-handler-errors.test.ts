// A handler's throw in each phase, as nginx + lua-nginx-module words it in error.log (`lua entry
// thread aborted: runtime error: ...` for rewrite/access/content, `lua user thread aborted:` for a
// light thread, `failed to run header_filter_by_lua*: ...` for the filters and log) and as tresty
// must (`js` for `lua`, the stable code closing the first line). Each case checks the whole
// entry's shape on both: the level, the request number, the words, the stack traceback, then
// the request's context at the end of the entry's last line.
import { compatSuite } from './helpers/compat.js';
import type { Case } from './helpers/phases-harness.js';

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

const cases: Case[] = [
  {
    name: 'rewrite: a throw is the entry thread aborting, a 500',
    conf: 'location = /he-rewrite { rewrite_by_js_block { throw new Error("he-rewrite boom"); } }',
    lua: 'location = /he-rewrite { rewrite_by_lua_block { error("he-rewrite boom") } }',
    requests: [{ path: '/he-rewrite', status: 500 }],
    ...lines(['LANG entry thread aborted: runtime error', 'he-rewrite boom', '/he-rewrite']),
  },
  {
    name: 'access: a throw after a wait is the entry thread aborting, a 500',
    conf: 'location = /he-access { access_by_js_block { await ngx.sleep(0.001); throw new Error("he-access boom"); } }',
    lua: 'location = /he-access { access_by_lua_block { ngx.sleep(0.001) error("he-access boom") } }',
    requests: [{ path: '/he-access', status: 500 }],
    ...lines(['LANG entry thread aborted: runtime error', 'he-access boom', '/he-access']),
  },
  {
    name: 'content: a throw is the entry thread aborting, a 500',
    conf: 'location = /he-content { content_by_js_block { throw new Error("he-content boom"); } }',
    lua: 'location = /he-content { content_by_lua_block { error("he-content boom") } }',
    requests: [{ path: '/he-content', status: 500 }],
    ...lines(['LANG entry thread aborted: runtime error', 'he-content boom', '/he-content']),
  },
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
];

compatSuite('a handler\'s throw in the error log', {}, cases);
