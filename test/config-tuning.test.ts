// nginx's tuning directives that tresty accepts with no effect (src/config/directives-tuning.ts):
// a real conf full of them loads; a bad value is still a conf error naming file:line, with the
// same verdict as nginx 1.22 (`nginx -t`). Unknown Lua directives name their tresty equivalent.
import { describe, expect, it } from 'vitest';
import { confErrorOf, loadConfText } from './helpers/conf-load.js';

const load = (conf: string) => loadConfText(conf);
const errorOf = (conf: string) => confErrorOf(conf);

const FULL = `pcre_jit on;
load_module modules/ngx_http_headers_more_filter_module.so;
load_module modules/ndk_http_module.so;
lock_file logs/nginx.lock;
timer_resolution 100ms;
thread_pool default threads=32 max_queue=65536;
worker_priority 0;
debug_points abort;
events { accept_mutex on; accept_mutex_delay 500ms; worker_aio_requests 32; epoll_events 512; debug_connection 127.0.0.1; debug_connection 10.0.0.0/8; debug_connection ::1; debug_connection unix:; }
http {
  types_hash_max_size 2048; types_hash_bucket_size 64;
  server_names_hash_max_size 512; server_names_hash_bucket_size 128;
  variables_hash_max_size 1024; variables_hash_bucket_size 64;
  proxy_headers_hash_max_size 1024; proxy_headers_hash_bucket_size 128;
  open_file_cache max=1000 inactive=20s; open_file_cache_valid 30s; open_file_cache_min_uses 2;
  open_file_cache_errors on;
  output_buffers 2 32k; postpone_output 1460; aio threads; directio 4m; directio_alignment 512;
  msie_padding on; msie_refresh off; tcp_nodelay on; keepalive_disable msie6 safari;
  connection_pool_size 512; request_pool_size 4k; read_ahead 0; open_file_cache_events off;
  subrequest_output_buffer_size 8k; gzip_hash 8k; gzip_window 16k; gzip_no_buffer off; postpone_gzipping 0;
  http2_pool_size 4k; ssl_early_data on; ssl_session_ticket_key ticket.key;
  server {
    listen 127.0.0.1:1;
    location / { open_file_cache off; aio on; directio off; types_hash_max_size 1024; }
  }
}
`;

describe('tuning directives accepted with no effect', () => {
  it('a conf using all of them loads', () => {
    const conf = load(FULL);
    expect(conf.http!.servers).toHaveLength(1);
    expect(conf.workerPriority).toBe(0);
  });

  it('send_lowat and proxy_send_lowat: nginx\'s [warn] on Linux, with file:line (nginx -t gives the same)', () => {
    const c = load('events {}\nhttp { send_lowat 0;\nserver { listen 127.0.0.1:1; location / { proxy_send_lowat 1k; } } }\n');
    expect(c.warnings).toEqual([
      expect.stringMatching(/^"send_lowat" is not supported, ignored in .*nginx\.conf:2$/),
      expect.stringMatching(/^"proxy_send_lowat" is not supported, ignored in .*nginx\.conf:3$/),
    ]);
    expect(errorOf('events {}\nhttp { send_lowat x; }\n').message).toMatch(/^"send_lowat" directive invalid value in /);
  });

  it('load_module is a main-context directive with one argument, as nginx has it', () => {
    expect(errorOf('events {}\nhttp { load_module x.so; }\n').message).toMatch(/"load_module" directive is not allowed here in .*nginx\.conf:2/);
    expect(errorOf('load_module;\nevents {}\n').message).toMatch(/invalid number of arguments in "load_module" directive/);
  });

  it('worker_priority keeps its number (clamped to what setpriority takes)', () => {
    expect(load('worker_priority -5;').workerPriority).toBe(-5);
    expect(load('worker_priority 30;').workerPriority).toBe(19);
  });

  // Each verdict checked against nginx 1.22.1 `nginx -t`.
  it.each([
    ['thread_pool default;', 'TRESTY_ERR_CONF_ARGS', /invalid number of arguments in "thread_pool" directive in .*nginx\.conf:1$/],
    ['thread_pool default threads=0;', 'TRESTY_ERR_CONF_VALUE', /invalid threads value "threads=0" in .*:1$/],
    ['thread_pool default max_queue=10;', 'TRESTY_ERR_CONF_VALUE', /"thread_pool" must have "threads" parameter/],
    ['worker_priority 5x;', 'TRESTY_ERR_CONF_VALUE', /"worker_priority" directive invalid number/],
    ['pcre_jit yes;', 'TRESTY_ERR_CONF_VALUE', /it must be "on" or "off"/],
    ['timer_resolution fast;', 'TRESTY_ERR_CONF_VALUE', /"timer_resolution" directive invalid value/],
    ['events { accept_mutex_delay 5q; }', 'TRESTY_ERR_CONF_VALUE', /"accept_mutex_delay" directive invalid value/],
    ['accept_mutex on;', 'TRESTY_ERR_CONF_NOT_ALLOWED', /"accept_mutex" directive is not allowed here/],
    ['http { open_file_cache inactive=20s; }', 'TRESTY_ERR_CONF_VALUE', /"open_file_cache" must have the "max" parameter/],
    ['http { open_file_cache max=0; }', 'TRESTY_ERR_CONF_VALUE', /invalid "open_file_cache" parameter "max=0"/],
    ['http { open_file_cache max=10 inactive=2x; }', 'TRESTY_ERR_CONF_VALUE', /invalid "open_file_cache" parameter "inactive=2x"/],
    ['http { aio foo; }', 'TRESTY_ERR_CONF_VALUE', /"aio" directive invalid value/],
    ['http { directio foo; }', 'TRESTY_ERR_CONF_VALUE', /"directio" directive invalid value/],
    ['http { output_buffers 1; }', 'TRESTY_ERR_CONF_ARGS', /invalid number of arguments in "output_buffers"/],
    ['http { output_buffers 0 32k; }', 'TRESTY_ERR_CONF_VALUE', /"output_buffers" directive invalid value/],
    ['http { types_hash_max_size 1x; }', 'TRESTY_ERR_CONF_VALUE', /"types_hash_max_size" directive invalid number/],
    ['http { server { server_names_hash_bucket_size 64; } }', 'TRESTY_ERR_CONF_NOT_ALLOWED', /is not allowed here/],
    ['http { server { variables_hash_max_size 64; } }', 'TRESTY_ERR_CONF_NOT_ALLOWED', /is not allowed here/],
    ['http { server { if ($uri) { aio on; } } }', 'TRESTY_ERR_CONF_NOT_ALLOWED', /"aio" directive is not allowed here/],
    ['http { postpone_output 1; postpone_output 2; }', 'TRESTY_ERR_CONF_DUPLICATE', /"postpone_output" directive is duplicate/],
    ['http { keepalive_disable foo; }', 'TRESTY_ERR_CONF_VALUE', /^invalid value "foo" in .*:1$/],
    ['http { types_hash_bucket_size 64k; }', 'TRESTY_ERR_CONF_VALUE', /^"types_hash_bucket_size" directive invalid number in /],
    ['debug_points x;', 'TRESTY_ERR_CONF_VALUE', /^invalid value "x" in /],
    ['http { max_ranges x; }', 'TRESTY_ERR_CONF_VALUE', /^"max_ranges" directive invalid number in /],
    ['worker_rlimit_core x;', 'TRESTY_ERR_CONF_VALUE', /^"worker_rlimit_core" directive invalid value in /],
    ['events { worker_aio_requests x; }', 'TRESTY_ERR_CONF_VALUE', /^"worker_aio_requests" directive invalid number in /],
    ['events { epoll_events x; }', 'TRESTY_ERR_CONF_VALUE', /^"epoll_events" directive invalid number in /],
    ['events { debug_connection x; }', 'TRESTY_ERR_CONF_VALUE', /^host not found in debug_connection "x" in /],
    ['http { connection_pool_size 10; }', 'TRESTY_ERR_CONF_VALUE', /^the pool size must be no less than 112 in /],
    ['http { request_pool_size 1001; }', 'TRESTY_ERR_CONF_VALUE', /^the pool size must be a multiple of 16 in /],
    ['http { server { location / { request_pool_size 4k; } } }', 'TRESTY_ERR_CONF_NOT_ALLOWED', /is not allowed here/],
    ['http { read_ahead x; }', 'TRESTY_ERR_CONF_VALUE', /^"read_ahead" directive invalid value in /],
    ['http { gzip_hash 3; }', 'TRESTY_ERR_CONF_VALUE', /^"gzip_hash" directive must be 512, 1k, 2k, 4k, 8k, 16k, 32k, 64k, or 128k in /],
    ['http { gzip_window 1000; }', 'TRESTY_ERR_CONF_VALUE', /^"gzip_window" directive must be 512, 1k, 2k, 4k, 8k, 16k, or 32k in /],
    ['http { ssl_early_data x; }', 'TRESTY_ERR_CONF_VALUE', /^invalid value "x" in "ssl_early_data" directive, it must be "on" or "off" in /],
    ['http { absolute_redirect yes; }', 'TRESTY_ERR_CONF_VALUE', /it must be "on" or "off"/],
    ['http { server { location / { merge_slashes off; } } }', 'TRESTY_ERR_CONF_NOT_ALLOWED', /"merge_slashes" directive is not allowed here/],
    ['http { server { if ($uri) { uninitialized_variable_warn off; } } }', 'TRESTY_ERR_CONF_NOT_ALLOWED', /is not allowed here/],
  ])('%s is refused', (conf, code, message) => {
    const e = errorOf(conf);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });
});

describe('OpenResty directives name their tresty equivalent', () => {
  it.each([
    ['http { lua_shared_dict cache 10m; }', 'lua_shared_dict', 'js_shared_dict'],
    ['http { lua_package_path "/x/?.lua;;"; }', 'lua_package_path', 'js_package_path'],
    ['http { lua_code_cache off; }', 'lua_code_cache', 'js_code_cache'],
    ['http { init_worker_by_lua_file w.lua; }', 'init_worker_by_lua_file', 'init_worker_by_js_file'],
    ['http { access_by_lua_no_postpone on; }', 'access_by_lua_no_postpone', 'access_by_js_no_postpone'],
    ['http { server { location / { content_by_lua "ngx.say(1)"; } } }', 'content_by_lua', 'content_by_js_block'],
  ])('%s', (conf, name, js) => {
    const e = errorOf(conf);
    expect(e.code).toBe('TRESTY_ERR_CONF_UNKNOWN_DIRECTIVE');
    expect(e.message).toContain(`unknown directive "${name}"; tresty runs JavaScript/TypeScript, not Lua: use "${js}"`);
    expect(e.message).toMatch(/nginx\.conf:1$/);
  });

  it('a *_by_lua_block with Lua code (braces in strings, comments, long strings) is reported by name at its line', () => {
    const e = errorOf(`http {
  server {
    location / {
      content_by_lua_block {
        local t = { a = "}" } -- a } in a comment
        ngx.say([[ } ]], '{')
        --[==[ } ]==]
        if t then ngx.say("ok") end
      }
    }
  }
}`);
    expect(e.code).toBe('TRESTY_ERR_CONF_UNKNOWN_DIRECTIVE');
    expect(e.message).toMatch(/unknown directive "content_by_lua_block"; .* use "content_by_js_block" .* in .*nginx\.conf:4$/);
  });

  it('a Lua directive with no tresty equivalent says so', () => {
    const e = errorOf('http { lua_socket_log_errors off; }');
    expect(e.message).toMatch(/unknown directive "lua_socket_log_errors"; tresty runs JavaScript\/TypeScript, not Lua, and has no equivalent/);
  });

  it('other unknown directives keep nginx\'s plain message', () => {
    expect(errorOf('http { bogus on; }').message).toMatch(/^unknown directive "bogus" in .*:1$/);
  });
});
