// A differential fuzz of header_filter_by_* and body_filter_by_*: each seeded case is a content
// source (a content handler printing in several chunks, empty ones and flushes included, a static
// file, a proxy_pass to a small node backend sending a chunked or a Content-Length body, `return
// 200 text`, nginx's error page, ngx.exit(status) after some output or none) over GET or HEAD, with
// a header filter and a body filter drawn from a small grammar (headers set and cleared,
// Content-Length and Content-Type included, the status changed, ngx.var and ngx.ctx read; the
// chunk upper-cased, replaced, appended to, dropped, eof set on the Nth call, the chunks collected
// and emitted at eof, the last chunk emptied, a throw, `return ngx.ERROR`). The same program runs
// in JS on tresty (both engines) and in Lua on nginx 1.22 + lua-nginx-module.
//
// What the filters saw is logged by the filters themselves into a shared dict (js_shared_dict /
// lua_shared_dict `seen`, one key per case), one record per call, and fetched at the end from
// /seen: a header cannot carry it (the head is out before the body filter runs), and the body
// cannot either (a filter that cuts the body, throws or empties the last chunk has nowhere to put
// it), where a shared dict works the same on all three servers whatever the filter did.
// Compared: the status line, Content-Length, Transfer-Encoding, Content-Type and the case's own
// headers, the body's bytes (de-chunked) and the filters' records.
// TRESTY_FUZZ_SEED=N replays (or varies) the run; fixed regression cases go first in every run.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { answerParts, dechunk, type Divergence, NGINX_NAME, pick, prng } from './helpers/fuzz.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, oneServerConf, startTresty, type TrestyProcess } from './helpers/server.js';

// --- the grammar -------------------------------------------------------------------------------

type Out = { op: 'say' | 'print'; s: string } | { op: 'flush' };
type Source =
  | { kind: 'content'; outs: Out[] }
  | { kind: 'static'; big?: boolean }
  | { kind: 'proxy'; chunked: boolean; parts: string[] }
  | { kind: 'return'; text: string }
  | { kind: 'page'; status: number }
  | { kind: 'exit'; outs: Out[]; status: number };

type HfOp = 'mark' | 'clearLen' | 'setLen' | 'setType' | 'clearType' | 'status' | 'var' | 'ctx' | 'throw';
type BfOp =
  | { op: 'upper' | 'append' | 'replace' | 'collect' | 'lastEmpty' | 'ctxRead' | 'varEof' }
  | { op: 'drop' | 'eof' | 'throw' | 'error'; n: number };

interface Case { src: Source; hf: HfOp[]; bf: BfOp[]; head: boolean }

const TEXTS = ['a', 'hello', '', 'x y', 'Mixed Case', '0'];
const FILE_TEXT = 'static file\nline two\n';
/** Larger than nginx's 32k output buffer: body_filter sees it in pieces. */
const BIG_TEXT = 'big file line\n'.repeat(5000);

function outs(r: () => number): Out[] {
  return Array.from({ length: Math.floor(r() * 5) }, (): Out => (r() < 0.2 ? { op: 'flush' } : { op: r() < 0.5 ? 'say' : 'print', s: pick(r, TEXTS) }));
}

function source(r: () => number): Source {
  const x = r();
  if (x < 0.4) return { kind: 'content', outs: outs(r) };
  if (x < 0.5) return r() < 0.2 ? { kind: 'static', big: true } : { kind: 'static' };
  if (x < 0.68) return { kind: 'proxy', chunked: r() < 0.5, parts: Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(r, TEXTS.filter((t) => t !== ''))) };
  if (x < 0.78) return { kind: 'return', text: pick(r, ['ok', 'ok\\n', '']) };
  if (x < 0.86) return { kind: 'page', status: pick(r, [403, 404, 500, 503]) };
  return { kind: 'exit', outs: r() < 0.6 ? [] : outs(r), status: pick(r, [200, 204, 404, 500]) };
}

const HF_OPS: readonly HfOp[] = ['mark', 'clearLen', 'setLen', 'setType', 'clearType', 'status', 'var', 'ctx', 'throw'];

/** The chunk boundaries of a proxied body are the reads made (docs/api.md, ngx.arg's row): there
 *  only ops whose result does not depend on them (no call counts, nothing per chunk). */
function bodyOp(r: () => number, proxied: boolean): BfOp {
  const x = r();
  if (proxied) return { op: pick(r, ['upper', 'collect', 'lastEmpty', 'ctxRead', 'varEof'] as const) };
  if (x < 0.35) return { op: pick(r, ['drop', 'eof', 'throw', 'error'] as const), n: 1 + Math.floor(r() * 3) };
  return { op: pick(r, ['upper', 'append', 'replace', 'collect', 'lastEmpty', 'ctxRead', 'varEof'] as const) };
}

function randomCase(r: () => number): Case {
  const src = source(r);
  const hf = r() < 0.75 ? Array.from({ length: 1 + Math.floor(r() * 2) }, () => pick(r, HF_OPS)) : [];
  // a header filter that throws is a rare case: it aborts the answer
  if (hf.includes('throw') && r() < 0.6) hf.splice(hf.indexOf('throw'), 1);
  if (hf.includes('setLen') && r() < 0.5) hf.splice(hf.indexOf('setLen'), 1);
  const bf = r() < 0.85 ? Array.from({ length: 1 + Math.floor(r() * 2) }, () => bodyOp(r, src.kind === 'proxy')) : [];
  return { src, hf, bf, head: r() < 0.12 };
}

// --- the two languages ---------------------------------------------------------------------------

/** Records: `H<status>,<content-length>,<content-type>` for header_filter's entry, then what it
 *  read; `B<eof>:<chunk>` for each body_filter call's entry. Values escaped (`%XX`) so that `;`
 *  ends a record. */
const LOG_JS = (k: string): string => `
      const esc = (s) => String(s).replace(/[\\x00-\\x1f\\x7f:;%\\\\]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0"));
      const log = (s) => { const d = ngx.shared.seen; d.set("${k}", (d.get("${k}")[0] ?? "") + s + ";"); };`;
const LOG_LUA = (k: string): string => `
      local function esc(s) return (tostring(s):gsub("[%c:;%%\\\\]", function(c) return string.format("%%%02X", c:byte()) end)) end
      local function log(s) local d = ngx.shared.seen; d:set("${k}", (d:get("${k}") or "") .. s .. ";") end`;

function jsOut(o: Out): string {
  return o.op === 'flush' ? 'await ngx.flush(true);' : `ngx.${o.op}(${JSON.stringify(o.s)});`;
}
function luaOut(o: Out): string {
  return o.op === 'flush' ? 'ngx.flush(true)' : `ngx.${o.op}(${JSON.stringify(o.s)})`;
}

function sourceConf(c: Case, js: boolean, backend: number): string {
  const lang = js ? 'js' : 'lua';
  const s = c.src;
  switch (s.kind) {
    case 'content': return `      content_by_${lang}_block { ${s.outs.map(js ? jsOut : luaOut).join(' ')} }\n`;
    case 'exit': return `      content_by_${lang}_block { ${s.outs.map(js ? jsOut : luaOut).join(' ')} return ngx.exit(${s.status}) }\n`;
    case 'static': return `      alias html/${s.big ? 'big' : 'f'}.txt;\n`;
    case 'proxy': return `      proxy_pass http://127.0.0.1:${backend}/${s.chunked ? 'chunked' : 'length'}?p=${s.parts.map((p) => encodeURIComponent(p)).join(',')};\n`;
    case 'return': return `      return 200 "${s.text}";\n`;
    case 'page': return `      return ${s.status};\n`;
  }
}

const HF_JS: Record<HfOp, string> = {
  mark: 'ngx.header["X-HF"] = "hf";',
  clearLen: 'ngx.header.content_length = null;',
  setLen: 'ngx.header.content_length = 3;',
  setType: 'ngx.header.content_type = "text/x-hf";',
  clearType: 'ngx.header.content_type = null;',
  status: 'if (ngx.status === 200) ngx.status = 201; else if (ngx.status === 404) ngx.status = 410;',
  var: 'log("V" + esc(ngx.var.uri) + "," + esc(ngx.var.request_method) + "," + esc(ngx.var.sent_http_content_type ?? "nil"));',
  ctx: 'ngx.ctx.hf = "c"; log("C" + esc(ngx.ctx.bf ?? "nil"));',
  throw: 'throw new Error("hf");',
};
const HF_LUA: Record<HfOp, string> = {
  mark: 'ngx.header["X-HF"] = "hf"',
  clearLen: 'ngx.header.content_length = nil',
  setLen: 'ngx.header.content_length = 3',
  setType: 'ngx.header.content_type = "text/x-hf"',
  clearType: 'ngx.header.content_type = nil',
  status: 'if ngx.status == 200 then ngx.status = 201 elseif ngx.status == 404 then ngx.status = 410 end',
  var: 'log("V" .. esc(ngx.var.uri) .. "," .. esc(ngx.var.request_method) .. "," .. esc(ngx.var.sent_http_content_type or "nil"))',
  ctx: 'ngx.ctx.hf = "c"; log("C" .. esc(ngx.ctx.bf or "nil"))',
  throw: 'error("hf")',
};

function bfJs(o: BfOp): string {
  switch (o.op) {
    // ASCII only, as Lua's string.upper of bytes
    case 'upper': return 'ngx.arg[1] = ngx.arg[1].replace(/[a-z]+/g, (m) => m.toUpperCase());';
    case 'append': return 'ngx.arg[1] = ngx.arg[1] + "+";';
    case 'replace': return 'if (ngx.arg[1] !== "") ngx.arg[1] = "R";';
    case 'collect': return 'ngx.ctx.buf = (ngx.ctx.buf ?? "") + ngx.arg[1]; ngx.arg[1] = ngx.arg[2] ? "<" + ngx.ctx.buf + ">" : "";';
    case 'lastEmpty': return 'if (ngx.arg[2]) ngx.arg[1] = "";';
    case 'ctxRead': return 'if (ngx.arg[2]) ngx.arg[1] = ngx.arg[1] + (ngx.ctx.hf ?? "-"); ngx.ctx.bf = "b";';
    case 'varEof': return 'if (ngx.arg[2]) ngx.arg[1] = ngx.arg[1] + ngx.var.uri;';
    case 'drop': return `if (ngx.ctx.n === ${o.n}) ngx.arg[1] = "";`;
    case 'eof': return `if (ngx.ctx.n === ${o.n}) ngx.arg[2] = true;`;
    case 'throw': return `if (ngx.ctx.n === ${o.n}) throw new Error("bf");`;
    case 'error': return `if (ngx.ctx.n === ${o.n}) return ngx.ERROR;`;
  }
}
function bfLua(o: BfOp): string {
  switch (o.op) {
    case 'upper': return 'ngx.arg[1] = string.upper(ngx.arg[1])';
    case 'append': return 'ngx.arg[1] = ngx.arg[1] .. "+"';
    case 'replace': return 'if ngx.arg[1] ~= "" then ngx.arg[1] = "R" end';
    case 'collect': return 'ngx.ctx.buf = (ngx.ctx.buf or "") .. ngx.arg[1]; if ngx.arg[2] then ngx.arg[1] = "<" .. ngx.ctx.buf .. ">" else ngx.arg[1] = "" end';
    case 'lastEmpty': return 'if ngx.arg[2] then ngx.arg[1] = "" end';
    case 'ctxRead': return 'if ngx.arg[2] then ngx.arg[1] = ngx.arg[1] .. (ngx.ctx.hf or "-") end; ngx.ctx.bf = "b"';
    case 'varEof': return 'if ngx.arg[2] then ngx.arg[1] = ngx.arg[1] .. ngx.var.uri end';
    case 'drop': return `if ngx.ctx.n == ${o.n} then ngx.arg[1] = "" end`;
    case 'eof': return `if ngx.ctx.n == ${o.n} then ngx.arg[2] = true end`;
    case 'throw': return `if ngx.ctx.n == ${o.n} then error("bf") end`;
    case 'error': return `if ngx.ctx.n == ${o.n} then return ngx.ERROR end`;
  }
}

function location(c: Case, i: number, js: boolean, backend: number): string {
  const lang = js ? 'js' : 'lua';
  const k = `c${i}`;
  let loc = `    location = /c${i} {\n${sourceConf(c, js, backend)}`;
  const hf = c.hf.map((o) => (js ? HF_JS : HF_LUA)[o]).join(js ? ' ' : '; ');
  loc += js
    ? `      header_filter_by_js_block {${LOG_JS(k)}\n      log("H" + ngx.status + "," + esc(ngx.header.content_length ?? "nil") + "," + esc(ngx.header.content_type ?? "nil")); ${hf}\n      }\n`
    : `      header_filter_by_lua_block {${LOG_LUA(k)}\n      log("H" .. ngx.status .. "," .. esc(ngx.header.content_length or "nil") .. "," .. esc(ngx.header.content_type or "nil")); ${hf}\n      }\n`;
  if (c.bf.length > 0) {
    const bf = c.bf.map(js ? bfJs : bfLua).join(js ? ' ' : '; ');
    loc += js
      ? `      body_filter_by_js_block {${LOG_JS(k)}\n      ngx.ctx.n = (ngx.ctx.n ?? 0) + 1; log("B" + (ngx.arg[2] ? 1 : 0) + ":" + esc(ngx.arg[1])); ${bf}\n      }\n`
      : `      body_filter_by_lua_block {${LOG_LUA(k)}\n      ngx.ctx.n = (ngx.ctx.n or 0) + 1; log("B" .. (ngx.arg[2] and 1 or 0) .. ":" .. esc(ngx.arg[1])); ${bf}\n      }\n`;
  }
  return `${loc}    }\n`;
}

function serverConf(all: Case[], js: boolean, backend: number): string {
  const dump = js
    ? `const d = ngx.shared.seen; const o = []; for (let i = 0; i < ${all.length}; i++) o.push("c" + i + "=" + (d.get("c" + i)[0] ?? "")); ngx.print(o.join("\\n"));`
    : `local d = ngx.shared.seen; local o = {}; for i = 0, ${all.length - 1} do o[#o + 1] = "c" .. i .. "=" .. (d:get("c" .. i) or "") end; ngx.print(table.concat(o, "\\n"))`;
  return `server_name localhost;\n    location = /seen { content_by_${js ? 'js' : 'lua'}_block { ${dump} } }\n${all.map((c, i) => location(c, i, js, backend)).join('')}`;
}

/** The backend of the proxied cases: `/chunked?p=a,b` sends each part with its own write (chunked),
 *  `/length?p=...` the same with a Content-Length. */
function startBackend(): Promise<http.Server> {
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const parts = (u.searchParams.get('p') ?? '').split(',').filter((p) => p !== '');
    const body = parts.join('');
    const head: Record<string, string | number> = { 'Content-Type': 'text/plain', 'X-Up': 'up' };
    if (u.pathname === '/length') head['Content-Length'] = Buffer.byteLength(body);
    res.writeHead(200, head);
    if (req.method === 'HEAD') { res.end(); return; }
    let k = 0;
    const next = (): void => { if (k < parts.length) { res.write(parts[k++]!); setImmediate(next); } else res.end(); };
    next();
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

// --- fixed cases ---------------------------------------------------------------------------------

const say = (s: string): Out => ({ op: 'say', s });
const prog = (src: Source, hf: HfOp[], bf: BfOp[], head = false): Case => ({ src, hf, bf, head });

/** The fixed cases of the divergences found (each failed on tresty before its fix). */
const REGRESSIONS: Case[] = [
  // body_filter's `return ngx.ERROR` aborts the response as a throw does (nothing sent once the
  // head was still held, a cut answer after), unlogged. Was ignored: the whole answer went out.
  prog({ kind: 'content', outs: [say('Mixed Case')] }, [], [{ op: 'error', n: 2 }]),
  prog({ kind: 'content', outs: [say('a'), { op: 'flush' }, say('b')] }, ['mark'], [{ op: 'error', n: 3 }]),
  prog({ kind: 'page', status: 404 }, [], [{ op: 'upper' }, { op: 'error', n: 1 }]),
  // A static file goes through body_filter as one chunk with eof (nginx's copy filter reads it
  // for lua's filter, its last buffer with last_buf). Was: the file, then "" with eof.
  prog({ kind: 'static' }, ['mark'], [{ op: 'lastEmpty' }]),
  prog({ kind: 'static' }, [], [{ op: 'replace' }, { op: 'append' }]),
  // ... a larger one in 32k chunks (nginx's output buffer), the last with eof (was: one chunk).
  prog({ kind: 'static', big: true }, [], [{ op: 'replace' }, { op: 'append' }]),
  // header_filter reads the length nginx gave its page, `return`'s text (a HEAD's too) and
  // ngx.exit(204) (0); $sent_http_content_type reads default_type, and null once cleared. Were:
  // nil, nil, and "" once cleared.
  prog({ kind: 'page', status: 404 }, ['var'], [{ op: 'upper' }]),
  prog({ kind: 'return', text: 'ok' }, ['var', 'clearLen'], []),
  prog({ kind: 'return', text: 'ok\\n' }, [], [], true),
  prog({ kind: 'exit', outs: [], status: 204 }, ['mark'], []),
  prog({ kind: 'content', outs: [say('a')] }, ['clearType', 'var'], []),
  prog({ kind: 'content', outs: [say('a')] }, ['var'], [{ op: 'append' }]),
  // A HEAD proxied to a chunked upstream has no length (was `Content-Length: 0`).
  prog({ kind: 'proxy', chunked: true, parts: ['hello'] }, ['mark'], [], true),
  prog({ kind: 'proxy', chunked: true, parts: ['a', 'b'] }, [], [{ op: 'upper' }], true),
  // After body_filter failed, lua still runs it on ngx.flush's empty buffer (was skipped), and an
  // eof it sets then, or in the call that fails, ends the calls (was: still called to the end).
  prog({ kind: 'content', outs: [say('a'), say('hello'), { op: 'print', s: 'x y' }, { op: 'flush' }] }, [], [{ op: 'error', n: 3 }, { op: 'varEof' }]),
  prog({ kind: 'content', outs: [say('0'), { op: 'flush' }, { op: 'print', s: '0' }, { op: 'flush' }] }, [], [{ op: 'throw', n: 1 }, { op: 'eof', n: 2 }]),
  prog({ kind: 'content', outs: [say('a'), say('x y'), say('hello'), { op: 'flush' }] }, ['setType'], [{ op: 'eof', n: 2 }, { op: 'error', n: 2 }]),
  // ngx.exit(204) after output, once body_filter ended the body: the answer went whole (was
  // terminated: nothing sent).
  prog({ kind: 'exit', outs: [say(''), { op: 'print', s: '0' }, say('Mixed Case')], status: 204 }, ['setType'], [{ op: 'eof', n: 2 }]),
  // (a guard of the excused lost end, lostEof: tresty ends the body at the emptied chunk)
  prog({ kind: 'content', outs: [say('a'), say('b')] }, [], [{ op: 'drop', n: 1 }, { op: 'eof', n: 1 }]),
];

function cases(seed: number, n: number): Case[] {
  const r = prng(seed);
  const out = [...REGRESSIONS];
  for (let i = 0; i < n; i++) out.push(randomCase(r));
  return out;
}

// --- fetching and comparing ------------------------------------------------------------------

interface Answer { status: string; head: string[]; body: string; seen: string }

const SHOWN = /^(content-length|transfer-encoding|content-type|x-hf|x-up):/i;

async function fetchAnswer(port: number, c: Case, i: number): Promise<Omit<Answer, 'seen'>> {
  const wire = `${c.head ? 'HEAD' : 'GET'} /c${i} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`;
  const res = await raw(port, [wire], { timeoutMs: 3000 });
  const a = answerParts(res.data);
  const chunked = a.head.some((l) => /^transfer-encoding: *chunked/i.test(l));
  return { status: a.status, head: a.head.filter((l) => SHOWN.test(l)), body: chunked && !c.head ? dechunk(a.body) : a.body };
}

async function fetchAll(port: number, all: Case[]): Promise<Answer[]> {
  const got: Array<Omit<Answer, 'seen'>> = [];
  for (let i = 0; i < all.length; i++) got.push(await fetchAnswer(port, all[i]!, i));
  const res = await raw(port, ['GET /seen HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'], { timeoutMs: 5000 });
  const a = answerParts(res.data);
  const seen = new Map(dechunk(a.body).split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return got.map((g, i) => ({ ...g, seen: seen.get(`c${i}`) ?? '<none>' }));
}


/** An answer of nginx's page (the head not yet sent when the status was given). */
function isPage(c: Case): boolean {
  return c.src.kind === 'page' || (c.src.kind === 'exit' && c.src.status >= 300 && c.src.outs.every((o) => o.op === 'flush'));
}

/** nginx's pages name nginx/1.22.x at their foot where tresty's say `tresty` (docs/directives.md,
 *  server_tokens): nginx's answer as tresty's, the page's length (sent, and read by header_filter)
 *  less the difference. */
function asTresty(c: Case, a: Answer): Answer {
  const fix = (s: string): string => s.replace(/nginx\/[0-9.]+/gi, (m) => (m === m.toUpperCase() ? 'TRESTY' : 'tresty'));
  if (!isPage(c)) return a;
  const d = NGINX_NAME.length - 'tresty'.length;
  const page = /^H[0-9]+,([0-9]+),/.exec(a.seen)?.[1];
  const seen = fix(a.seen).replace(/^(H[0-9]+,)([0-9]+)/, (_m, h: string, n: string) => `${h}${Number(n) - d}`);
  const head = a.head.map((l) => (/^content-length: /i.test(l) && l.slice(16) === page ? `${l.slice(0, 16)}${Number(page) - d}` : l));
  return { ...a, body: fix(a.body), head, seen };
}

/** A proxied body's records with its chunks joined: the chunk boundaries are the reads made
 *  (docs/api.md, ngx.arg's row); the bytes, and the end, are compared. */
function joined(seen: string): string {
  const recs = seen.split(';');
  const data = recs.filter((x) => x.startsWith('B')).map((x) => x.slice(3)).join('');
  const eofs = recs.filter((x) => x.startsWith('B1')).length;
  return `${recs.filter((x) => !x.startsWith('B')).join(';')}|${data}|eof x${eofs}`;
}

/** The body filter changes the body's length (whatever the filter does, when it drops or cuts). */
function changesLength(c: Case): boolean {
  return c.bf.some((o) => o.op !== 'upper' && o.op !== 'throw' && o.op !== 'error');
}

/**
 * docs/api.md, "Differences from OpenResty that remain": a body filter that empties a chunk that
 * is not the last (`ngx.arg[1] = ""`) and then sets `ngx.arg[2] = true` in the same call loses
 * the end on nginx (lua drops the emptied chunk's buffers, so there is none left to mark last,
 * and later chunks are dropped as after an eof): the client gets only what was flushed before
 * and the connection closes. tresty ends the body there. Found by replaying the filter's ops on
 * the chunk nginx's filter saw at that call.
 */
function lostEof(c: Case, nginxSeen: string): boolean {
  if (c.src.kind === 'proxy') return false;
  const calls = nginxSeen.split(';').filter((x) => x.startsWith('B'));
  for (const o of c.bf) {
    if (o.op !== 'eof') continue;
    const rec = calls[o.n - 1];
    if (rec === undefined || rec[1] === '1') continue;
    // (the call is not the last: the ops that act at eof do nothing)
    let cur = rec.slice(3);
    let emptied = false;
    for (const p of c.bf) {
      if (p === o || ((p.op === 'throw' || p.op === 'error') && p.n === o.n)) break;
      if (p.op === 'upper' || (p.op === 'replace' && cur !== '') || p.op === 'append') {
        cur = p.op === 'upper' ? cur : p.op === 'replace' ? 'R' : `${cur}+`;
        emptied = cur === '';
      } else if (p.op === 'collect' || (p.op === 'drop' && p.n === o.n)) {
        cur = '';
        emptied = true;
      }
    }
    if (emptied && !c.bf.slice(0, c.bf.indexOf(o)).some((p) => (p.op === 'throw' || p.op === 'error') && p.n === o.n)) return true;
  }
  return false;
}

function compare(c: Case, i: number, nginx: Answer, js: Answer): Divergence[] {
  const req = `/c${i} ${JSON.stringify(c)}`;
  let lua = asTresty(c, nginx);
  let got = js;
  const fields = ['status', 'head', 'body', 'seen'] as const;
  // docs/api.md, "Handler errors": a header_filter that throws aborts the response; nginx's
  // client may still get the later output, without a head (nginx's bodies go on after its
  // header filter failed), and the body filter may still be called at the end. What the header
  // filter saw is compared.
  if (c.hf.includes('throw')) {
    const hf = (s: string): string => s.split(';').filter((x) => !x.startsWith('B')).join(';');
    lua = { status: '', head: [], body: '', seen: hf(lua.seen) };
    got = { status: '', head: [], body: '', seen: hf(got.seen) };
  }
  if (lostEof(c, nginx.seen)) {
    lua = { ...lua, status: '', head: [], body: '' };
    got = { ...got, status: '', head: [], body: '' };
  }
  if (c.src.kind === 'proxy') {
    lua = { ...lua, seen: joined(lua.seen) };
    got = { ...got, seen: joined(got.seen) };
  }
  // docs/api.md, "Differences from OpenResty that remain": when a body filter changes the length
  // of a body whose length was known before it (a file, `return`, a page, an upstream's
  // Content-Length) or header_filter sets a length, nginx sends the length it had; tresty the
  // body's, or goes chunked when it does not have it whole (a file larger than a chunk, whatever
  // the filter does). Only the length's value (and so its line's place and name case), or that
  // framing in its place, is excused.
  const unknown = c.src.kind === 'static' && c.src.big === true && c.bf.length > 0;
  if (c.hf.includes('setLen') || changesLength(c) || unknown) {
    const knew = lua.head.some((l) => /^content-length: /i.test(l));
    const star = (h: string[]): string[] => h.map((l) => (/^content-length: /i.test(l) || (knew && /^transfer-encoding: chunked$/i.test(l)) ? 'content-length: *' : l)).sort();
    lua = { ...lua, head: star(lua.head) };
    got = { ...got, head: star(got.head) };
  }
  // docs/directives-gateway.md, proxy_buffering: `on` gathers a small answer and sends it in one
  // piece with its length, where nginx sends a chunked upstream's answer chunked. The framing
  // of a proxied chunked answer (its length or chunks) is excused; the body is compared.
  if (c.src.kind === 'proxy' && c.src.chunked && !c.head) {
    const framing = (h: string[]): string[] => h.map((l) => (/^(content-length: |transfer-encoding: chunked$)/i.test(l) ? 'framing: *' : l)).sort();
    lua = { ...lua, head: framing(lua.head) };
    got = { ...got, head: framing(got.head) };
  }
  const out: Divergence[] = [];
  for (const f of fields) {
    if (JSON.stringify(lua[f]) !== JSON.stringify(got[f])) out.push({ req, field: f, nginx: lua[f], tresty: got[f] });
  }
  return out;
}

// --- the runs ----------------------------------------------------------------------------------

const SEED = Number(process.env.TRESTY_FUZZ_SEED ?? 20261204);
const N = Number(process.env.TRESTY_FUZZ_CASES ?? 250);
const FILES = { 'html/f.txt': FILE_TEXT, 'html/big.txt': BIG_TEXT };

const missing = nginxMissing();
describe.skipIf(missing !== null)(`filter fuzz against nginx + lua (seed ${SEED})${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const all = cases(SEED, N);
  let n: Nginx;
  let backend: http.Server;
  let bport: number;
  let want: Answer[] = [];
  beforeAll(async () => {
    backend = await startBackend();
    bport = (backend.address() as AddressInfo).port;
    n = await startNginx(serverConf(all, false, bport), 'lua_shared_dict seen 4m;', FILES);
    fs.chmodSync(n.prefix, 0o755);
    want = await fetchAll(n.port, all);
  }, 60_000);
  afterAll(async () => {
    await n?.stop();
    await new Promise((r) => backend?.close(r));
  });

  for (const e of ENGINES) {
    describe.skipIf(e.skip !== null)(titled(e, 'tresty'), () => {
      let t: TrestyProcess;
      let port: number;
      beforeAll(async () => {
        port = await freePort();
        t = await startTresty(oneServerConf(port, serverConf(all, true, bport), { http: 'js_shared_dict seen 4m;' }), { env: e.env, files: FILES });
      });
      afterAll(async () => { await t?.stop(); });

      it(`${all.length} filter programs: the same answers and filter calls as nginx + lua (TRESTY_FUZZ_SEED=${SEED})`, async () => {
        const got = await fetchAll(port, all);
        const diffs: Divergence[] = [];
        for (let i = 0; i < all.length; i++) diffs.push(...compare(all[i]!, i, want[i]!, got[i]!));
        if (process.env.TRESTY_FUZZ_OUT) fs.writeFileSync(`${process.env.TRESTY_FUZZ_OUT}.${e.name}`, diffs.map((d) => JSON.stringify(d)).join('\n'));
        if (diffs.length > 0) console.log(`seed ${SEED}: ${diffs.length} divergences\n${diffs.slice(0, 12).map((d) => JSON.stringify(d)).join('\n')}`);
        expect(diffs.slice(0, 5)).toEqual([]);
      }, 120_000);
    });
  }
});
