// The contexts an ngx API may run in, one bit each, named once. Every phase-gated API checks
// the request's current bit against its own mask (STYLE 5) and throws one error text.

import { TrestyError } from '../errors.js';

export const CTX = {
  init: 1 << 0,
  init_worker: 1 << 1,
  set: 1 << 2,
  rewrite: 1 << 3,
  access: 1 << 4,
  content: 1 << 5,
  header_filter: 1 << 6,
  body_filter: 1 << 7,
  log: 1 << 8,
  timer: 1 << 9,
} as const;
export type ContextName = keyof typeof CTX;

const NAMES = new Map<number, string>(
  (Object.keys(CTX) as ContextName[]).map((k) => [CTX[k], k === 'timer' ? 'ngx.timer' : `${k}_by_js*`]),
);

/** The context's name as OpenResty prints it: `log_by_js*`, `ngx.timer`. */
export function contextLabel(bit: number): string {
  return NAMES.get(bit) ?? 'unknown';
}

/** OpenResty's text, with the phase's name. */
export function apiDisabled(bit: number): TrestyError {
  return new TrestyError('TRESTY_ERR_API_DISABLED', `API disabled in the context of ${contextLabel(bit)}`);
}

// Masks taken from lua-nginx-module's documented contexts (rewrite_by_lua* -> rewrite_by_js* ...).
const C = CTX;
const REQUEST = C.set | C.rewrite | C.access | C.content | C.header_filter | C.body_filter | C.log;
export const MASK = {
  output: C.rewrite | C.access | C.content, // say, print, flush, eof, exec, redirect, capture, read_body
  exit: C.rewrite | C.access | C.content | C.header_filter | C.timer,
  sleep: C.rewrite | C.access | C.content | C.timer,
  request: REQUEST, // var, get_method, get_headers, get_uri_args, status, header (read)
  requestWrite: REQUEST & ~C.log, // set_header, clear_header, set_uri_args, set_uri
  bodyData: C.rewrite | C.access | C.content | C.log,
  postArgs: C.rewrite | C.access | C.content | C.body_filter | C.log,
  header: C.rewrite | C.access | C.content | C.header_filter | C.body_filter | C.log,
  ctx: REQUEST | C.init_worker | C.timer,
  time: REQUEST | C.init_worker | C.timer,
  timer: REQUEST | C.init_worker | C.timer,
  worker: REQUEST | C.init_worker | C.timer,
  arg: C.set | C.body_filter,
  all: REQUEST | C.init | C.init_worker | C.timer,
} as const;
