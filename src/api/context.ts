// Where each ngx API may run: a mask of context bits (src/request/context.ts) per API. Every
// phase-gated API checks the request's current bit against its mask (STYLE 5).

import { CTX } from '../request/context.js';

export { apiDisabled, contextLabel, CTX, type ContextName } from '../request/context.js';

// Masks taken from lua-nginx-module's documented contexts (rewrite_by_lua* -> rewrite_by_js* ...).
const C = CTX;
const REQUEST = C.set | C.rewrite | C.access | C.content | C.header_filter | C.body_filter | C.log;
/** balancer_by_js (a request's upstream try) and ssl_certificate_by_js (a handshake, no request). */
const GW = C.balancer | C.ssl_certificate;
export const MASK = {
  output: C.rewrite | C.access | C.content, // say, print, flush, eof, exec, redirect, capture, read_body
  exit: C.rewrite | C.access | C.content | C.header_filter | C.timer,
  sleep: C.rewrite | C.access | C.content | C.timer | GW,
  request: REQUEST | C.balancer, // var, get_method, get_headers, get_uri_args, status, header (read)
  requestWrite: REQUEST & ~C.log, // set_header, clear_header, set_uri_args, set_uri (not in balancer)
  bodyData: C.rewrite | C.access | C.content | C.log,
  postArgs: C.rewrite | C.access | C.content | C.body_filter | C.log,
  header: C.rewrite | C.access | C.content | C.header_filter | C.body_filter | C.log,
  ctx: REQUEST | C.init_worker | C.timer | GW,
  time: REQUEST | C.init_worker | C.timer | GW,
  timer: REQUEST | C.init_worker | C.timer | GW,
  worker: REQUEST | C.init_worker | C.timer | GW,
  arg: C.set | C.body_filter,
  ffi: REQUEST | C.init_worker | C.timer | GW,
  thread: C.rewrite | C.access | C.content | C.timer,
  socket: C.rewrite | C.access | C.content | C.timer | C.ssl_certificate, // ngx.socket.tcp and its methods
  all: REQUEST | C.init | C.init_worker | C.timer | GW,
} as const;

/**
 * Where each API may be called, by name: the table docs/api.md shows (a test keeps the two in
 * step). The guards use the same MASK entries.
 */
export const API_CONTEXTS: Readonly<Record<string, number>> = {
  'ngx.say': MASK.output, 'ngx.print': MASK.output, 'ngx.flush': MASK.output, 'ngx.send_headers': MASK.output, 'ngx.eof': MASK.output,
  'ngx.exit': MASK.exit, 'ngx.redirect': MASK.output, 'ngx.exec': MASK.output,
  'ngx.sleep': MASK.sleep, 'ngx.log': MASK.all,
  'ngx.ctx': MASK.ctx, 'ngx.var': MASK.request, 'ngx.arg': MASK.arg,
  'ngx.status (read)': MASK.request, 'ngx.status (write)': MASK.request & ~(C.log | C.balancer),
  'ngx.header (read)': MASK.header, 'ngx.header (write)': MASK.header & ~C.log,
  'ngx.headers_sent': MASK.request, 'ngx.resp.get_headers': MASK.header, 'ngx.is_subrequest': MASK.request,
  'ngx.req.get_method': MASK.request, 'ngx.req.http_version': MASK.request, 'ngx.req.start_time': MASK.request,
  'ngx.req.is_internal': MASK.request, 'ngx.req.get_headers': MASK.request, 'ngx.req.raw_header': MASK.request,
  'ngx.req.get_uri_args': MASK.request,
  'ngx.req.set_method': MASK.requestWrite, 'ngx.req.set_header': MASK.requestWrite, 'ngx.req.clear_header': MASK.requestWrite,
  'ngx.req.set_uri_args': MASK.requestWrite, 'ngx.req.set_uri': MASK.requestWrite,
  'ngx.req.read_body': MASK.output, 'ngx.req.body_stream': MASK.output, 'ngx.req.socket': MASK.output, 'ngx.req.discard_body': MASK.output, 'ngx.req.set_body_data': MASK.output,
  'ngx.req.set_body_file': MASK.output, 'ngx.req.init_body': MASK.output, 'ngx.req.append_body': MASK.output, 'ngx.req.finish_body': MASK.output,
  'ngx.on_abort': MASK.output,
  'ngx.req.get_body_data': MASK.bodyData, 'ngx.req.get_body_file': MASK.bodyData, 'ngx.req.get_post_args': MASK.postArgs,
  'ngx.location.capture': MASK.output, 'ngx.location.capture_multi': MASK.output,
  'ngx.worker.id': MASK.worker, 'ngx.worker.count': MASK.worker, 'ngx.worker.pid': MASK.worker, 'ngx.worker.exiting': MASK.worker,
  'ngx.thread.spawn': MASK.thread, 'ngx.thread.wait': MASK.thread, 'ngx.thread.kill': MASK.thread,
  'ngx.timer.at': MASK.timer, 'ngx.timer.every': MASK.timer, 'ngx.timer.running_count': MASK.timer, 'ngx.timer.pending_count': MASK.timer,
  'ngx.now': MASK.time, 'ngx.time': MASK.time, 'ngx.today': MASK.time, 'ngx.update_time': MASK.time,
  'ngx.localtime': MASK.time, 'ngx.utctime': MASK.time,
  'ngx.load_ffi': MASK.ffi, 'ngx.ffi': MASK.ffi,
  'ngx.shared': MASK.all,
  'ngx.socket.tcp': MASK.socket, 'ngx.socket.stream': MASK.socket, 'ngx.socket.connect': MASK.socket, 'ngx.socket.udp': MASK.socket,
};
