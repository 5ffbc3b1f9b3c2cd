// nginx modules tresty does not have. A conf that uses one gets a conf error naming file:line,
// the module, and the tresty way to do the same where there is one, rather than "unknown
// directive" (or, worse, a silent accept of something the site relies on). The `off` forms
// (nginx's defaults) are accepted, since they ask for nothing.

import type { Directive } from './ast.js';
import { confError, type DirectiveRow } from './table.js';

interface Module {
  readonly module: string;
  readonly names: readonly string[];
  readonly hint: string;
}

/** Directives nginx's other upstream modules share with proxy_*: each prefix gets them all. */
const UPSTREAM_SUFFIXES = [
  'pass', 'param', 'index', 'split_path_info', 'intercept_errors', 'connect_timeout', 'send_timeout',
  'read_timeout', 'buffering', 'buffers', 'buffer_size', 'busy_buffers_size', 'keep_conn', 'hide_header',
  'pass_header', 'ignore_headers', 'next_upstream', 'next_upstream_tries', 'next_upstream_timeout',
  'pass_request_body', 'pass_request_headers', 'request_buffering', 'temp_path', 'max_temp_file_size',
  'temp_file_write_size', 'bind', 'store', 'store_access', 'ignore_client_abort', 'limit_rate',
  'socket_keepalive', 'catch_stderr', 'force_ranges', 'modifier1', 'modifier2', 'set_header', 'gzip_flag',
  'cache', 'cache_path', 'cache_key', 'cache_valid', 'cache_bypass', 'no_cache', 'cache_use_stale',
  'cache_lock', 'cache_lock_timeout', 'cache_lock_age', 'cache_methods', 'cache_min_uses',
  'cache_revalidate', 'cache_background_update', 'cache_max_range_offset', 'ssl_certificate',
  'ssl_certificate_key', 'ssl_verify', 'ssl_trusted_certificate', 'ssl_server_name', 'ssl_name',
  'ssl_protocols', 'ssl_ciphers', 'ssl_session_reuse', 'ssl_crl', 'ssl_password_file', 'ssl_conf_command',
  'ssl_verify_depth', 'send_lowat',
];

const PROXY_HINT = 'serve it with proxy_pass to an HTTP server, or a content_by_js handler (ngx.socket.tcp for the protocol)';

const MODULES: readonly Module[] = [
  { module: 'fastcgi', names: UPSTREAM_SUFFIXES.map((s) => `fastcgi_${s}`), hint: PROXY_HINT },
  { module: 'uwsgi', names: UPSTREAM_SUFFIXES.map((s) => `uwsgi_${s}`), hint: PROXY_HINT },
  { module: 'scgi', names: UPSTREAM_SUFFIXES.map((s) => `scgi_${s}`), hint: PROXY_HINT },
  { module: 'grpc', names: UPSTREAM_SUFFIXES.map((s) => `grpc_${s}`), hint: PROXY_HINT },
  { module: 'memcached', names: UPSTREAM_SUFFIXES.map((s) => `memcached_${s}`),
    hint: 'talk to memcached from a content_by_js handler over ngx.socket.tcp' },
  { module: 'mirror', names: ['mirror', 'mirror_request_body'],
    hint: 'send the copy from a log_by_js or content_by_js handler (ngx.timer.at with ngx.socket.tcp)' },
  {
    module: 'proxy_store, or proxy cache purge and background update',
    // proxy_cache and its settings are directives-cache.ts's; these parts are not built.
    names: ['proxy_cache_background_update', 'proxy_cache_max_range_offset',
      'proxy_cache_purge', 'proxy_store', 'proxy_store_access'],
    hint: 'use proxy_cache without it, or cache answers in a js_shared_dict from access_by_js and body_filter_by_js handlers',
  },
  { module: 'ssi', names: ['ssi', 'ssi_types', 'ssi_silent_errors', 'ssi_value_length', 'ssi_min_file_chunk', 'ssi_last_modified'],
    hint: 'assemble the page in a content_by_js handler (ngx.location.capture for the parts)' },
  { module: 'sub_filter', names: ['sub_filter', 'sub_filter_once', 'sub_filter_types', 'sub_filter_last_modified'],
    hint: 'rewrite the body in a body_filter_by_js handler (ngx.arg[1])' },
  { module: 'empty_gif', names: ['empty_gif'],
    hint: 'send the 43-byte GIF from a content_by_js handler' },
];

/** `ssi off;`, `mirror off;`, `proxy_store off;`: nginx's defaults, nothing asked. */
const OFF_OK = new Set(['ssi', 'mirror', 'proxy_store', 'proxy_cache_background_update']);

const ALL = ['main', 'events', 'http', 'server', 'location', 'sif', 'lif', 'upstream', 'limit_except'] as const;

function row(name: string, m: Module): DirectiveRow {
  return {
    name, contexts: ALL, args: [0, 16], multiple: true,
    apply(d: Directive) {
      if (OFF_OK.has(name) && d.args.length === 1 && d.args[0] === 'off') return;
      throw confError('TRESTY_ERR_CONF_UNSUPPORTED',
        `"${d.name}" directive: tresty does not have nginx's ${m.module} module; ${m.hint}`, d);
    },
  };
}

export const unsupportedDirectives: readonly DirectiveRow[] = MODULES.flatMap((m) => m.names.map((n) => row(n, m)));

/** For docs and tests: each module with its directives and the tresty way. */
export const unsupportedModules: readonly Module[] = MODULES;
