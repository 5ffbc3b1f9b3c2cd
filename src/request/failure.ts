// A handler's throw as an error-log message, in the words nginx 1.22 + lua-nginx-module uses
// for each kind of run (observed on it), `js` in place of `lua`:
//   rewrite, access, content, ssl_certificate, a timer: `js entry thread aborted: runtime error: WHERE: MSG`
//   a light thread (ngx.thread.spawn):                  `js user thread aborted: runtime error: WHERE: MSG`
//   header_filter, body_filter, log, set, balancer:     `failed to run log_by_js*: WHERE: MSG`
//   init, init_worker:                                  `init_worker_by_js error: WHERE: MSG` (`init_by_js_file error:` for a file)
//   a handler file that fails to import per request:    `failed to load external js file "PATH": MSG`
// then `stack traceback:` and the frames. WHERE is tresty's own `file:line` (the conf line of a
// block, or the handler file's line), MSG the JS `Name: message`. The first line ends with the
// stable code(s), as tresty's other log lines carry theirs.

import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { type ConfError, isTrestyError } from '../errors.js';
import type { HandlerSpec } from '../config/types.js';

/** What an error line needs to know of a loaded handler. */
export interface HandlerInfo {
  /** `content_by_js` etc. */
  readonly label: string;
  /** The file a stack frame must name to be the handler's own (conf file or handler file). */
  readonly file: string;
  readonly spec: HandlerSpec;
}

/** The phases whose handler runs as lua-nginx-module's entry thread (a coroutine that may yield). */
const ENTRY = new Set(['rewrite_by_js', 'access_by_js', 'content_by_js', 'ssl_certificate_by_js']);
/** The phases that report `<label> error:` (they run outside any request, at start-up). */
const INIT = new Set(['init_by_js', 'init_worker_by_js']);

/** `js entry thread aborted: runtime error: /x/nginx.conf:14: Error: boom (TRESTY_ERR_HANDLER)` + the stack. */
export function handlerFailure(h: HandlerInfo, e: unknown): string {
  if (h.spec.source === 'file' && isTrestyError(e) && e.code === 'TRESTY_ERR_CONF_HANDLER') return loadFailure(h.file, e);
  // init's words name the directive: `init_by_js_file error:` for a file (nginx + lua's).
  const words = ENTRY.has(h.label) ? 'js entry thread aborted: runtime error'
    : INIT.has(h.label) ? `${h.label}${h.spec.source === 'file' ? '_file' : ''} error` : `failed to run ${h.label}*`;
  return failure(words, whereIn(h, e), e);
}

/**
 * init_by_js's block or file that does not compile: nginx + lua's `init_by_lua error: WHERE: MSG`
 * with no traceback (nothing ran), WHERE the line the compiler names.
 */
export function initLoadFailure(e: ConfError): string {
  const cause = e.cause instanceof Error ? e.cause : null;
  const text = cause === null ? e.message : `${cause.name}: ${cause.message}`;
  // A file's own line when the loader found one (`init_by_js_file "F" failed to load (F:3): ...`).
  const file = /^\S+_by_js_file "([^"]*)" failed to load(?: \(([^()]+:\d+)\))?/.exec(e.message);
  const where = file?.[2] ?? `${e.file}:${e.line}`;
  return coded(`init_by_js${file ? '_file' : ''} error: ${where}: ${text}`, e);
}

/** A light thread's throw: `js user thread aborted: runtime error: ...`; `h` null outside a handler (a timer's thread). */
export function threadFailure(h: HandlerInfo | null, e: unknown): string {
  return failure('js user thread aborted: runtime error', h !== null ? whereIn(h, e) : whereOf(e), e);
}

/** A timer callback's throw (OpenResty runs it as an entry thread). */
export function timerFailure(e: unknown): string {
  return failure('js entry thread aborted: runtime error', whereOf(e), e);
}

/**
 * A handler file that failed to import for this request (js_code_cache off, an edit that broke
 * it): nginx + lua's `failed to load external Lua file "PATH": MSG`, with no traceback (nothing
 * of the handler ran). MSG is `file:line: SyntaxError: ...` when the error names a line.
 */
function loadFailure(file: string, e: Error): string {
  const cause = e.cause;
  if (!(cause instanceof Error)) return coded(`failed to load external js file "${file}": ${e.message}`, e);
  if (missingFile(e)) return coded(`failed to load external js file "${file}": ${cause.message}`, e);
  // A re-import's URL has a query (`?tresty=N`, past Node's module cache) before the `:line`.
  const m = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:\\?[^:\\s]*)?:(\\d+)`).exec(cause.stack ?? '');
  return coded(`failed to load external js file "${file}": ${m ? `${file}:${m[1]}: ` : ''}${cause.name}: ${cause.message}`, e);
}

/** A handler file gone since start (js_code_cache off): nginx + lua answers 404 for one it cannot open. */
export function missingFile(e: unknown): boolean {
  return isTrestyError(e) && e.code === 'TRESTY_ERR_CONF_HANDLER' && (e.cause as { code?: unknown } | undefined)?.code === 'ENOENT';
}

function failure(words: string, at: string | undefined, e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : thrown(e);
  const trace = e instanceof Error && e.stack ? `\nstack traceback:\n${userFrames(plain(e.stack))}` : '';
  return coded(`${words}: ${at !== undefined ? `${at}: ` : ''}${text}`, e) + trace;
}

/**
 * A thrown value that is not an Error: a string or number as itself (as Lua's error() gives it);
 * an object shown by its fields (not `[object Object]`: nginx's `unknown reason` for a table
 * would lose what the handler meant to say), on one line.
 */
function thrown(v: unknown): string {
  return typeof v === 'object' && v !== null ? inspect(v, { depth: 2, breakLength: Infinity }) : String(v);
}

/**
 * The code closes the first line (a message may run over several, a plugin's traceback) so that
 * a grep of one line finds it. A thrown TrestyError (API disabled, an FFI failure) says what went
 * wrong in its own code: both are given, the handler's first, as the watchdog line lists its
 * setting then its code.
 */
function coded(head: string, e: unknown): string {
  const codes = isTrestyError(e) && e.code !== 'TRESTY_ERR_HANDLER' ? `TRESTY_ERR_HANDLER, ${e.code}` : 'TRESTY_ERR_HANDLER';
  const nl = head.indexOf('\n');
  return nl < 0 ? `${head} (${codes})` : `${head.slice(0, nl)} (${codes})${head.slice(nl)}`;
}

/** The handler's own line, or where the error was thrown when not from its file (a rack middleware). */
function whereIn(h: HandlerInfo, e: unknown): string {
  const stack = plain(e instanceof Error ? e.stack ?? String(e) : `${String(e)}`);
  return frameIn(stack, h.file) ?? (h.spec.source === 'block' ? `${h.spec.ref.file}:${h.spec.codeLine ?? h.spec.ref.line}` : firstUserFrame(stack) ?? h.file);
}

/** Where the error was thrown, with no handler to look for (undefined for a non-Error). */
function whereOf(e: unknown): string | undefined {
  return e instanceof Error && e.stack ? firstUserFrame(plain(e.stack)) : undefined;
}

/**
 * A stack without the query of a re-imported handler file (`j.mjs?tresty=3:2:9`, the loader's way
 * past Node's module cache, src/phases/loader.ts): the file is named as the conf names it.
 */
function plain(stack: string): string {
  return stack.replace(/\?tresty=\d+(?=:\d)/g, '');
}

/** The first `file:line` of the stack that is in `file`. */
function frameIn(stack: string, file: string): string | undefined {
  const i = stack.indexOf(`${file}:`);
  if (i < 0) return undefined;
  const m = /^:(\d+)/.exec(stack.slice(i + file.length));
  return m ? `${file}:${m[1]}` : undefined;
}

/** tresty's own compiled code (dist/src and dist/workers): its frames are noise in a handler's trace. */
const OWN = fileURLToPath(new URL('../..', import.meta.url));

/** `file:line` of the first stack frame outside tresty and Node. */
function firstUserFrame(stack: string): string | undefined {
  for (const l of stack.split('\n')) {
    if (!/^\s+at /.test(l) || l.includes(OWN) || l.includes('node:')) continue;
    const m = /\(?(?:file:\/\/)?([^()\s]+):(\d+):\d+\)?$/.exec(l);
    if (m) return `${m[1]}:${m[2]}`;
  }
  return undefined;
}

function userFrames(stack: string): string {
  const lines = stack.split('\n');
  const frames = lines.filter((l) => /^\s+at /.test(l) && !l.includes(OWN) && !l.includes('node:internal'));
  return frames.join('\n');
}
