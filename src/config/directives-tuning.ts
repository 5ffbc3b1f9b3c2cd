// nginx's tuning directives that have nothing to tune in tresty (hash table sizes, file caches,
// output buffering, the accept mutex, ...). Real confs carry them, so they are accepted with
// nginx's own syntax checks (a bad value is still a conf error naming file:line) and change
// nothing; docs/directives.md says why for each. worker_priority is applied (os.setPriority).

import type { Directive } from './ast.js';
import { confError, confWarning, type DirectiveRow, flagError } from './table.js';
import { parseFlag, parseSize, parseTime } from './values.js';

const HSL = ['http', 'server', 'location'] as const;

function flag(name: string, contexts: DirectiveRow['contexts']): DirectiveRow {
  return { name, contexts, args: [1, 1], apply(d) { if (parseFlag(d.args[0]) === null) throw flagError(d); } };
}

function invalid(d: Directive, what: 'value' | 'number'): never {
  throw confError('TRESTY_ERR_CONF_VALUE', `"${d.name}" directive invalid ${what}`, d);
}

/** nginx's size slot: `64`, `8k`, `1m`. */
function size(name: string, contexts: DirectiveRow['contexts']): DirectiveRow {
  return { name, contexts, args: [1, 1], apply(d) { if (parseSize(d.args[0]) === null) invalid(d, 'value'); } };
}

/** nginx's num slot: a plain non-negative integer. */
function num(name: string, contexts: DirectiveRow['contexts']): DirectiveRow {
  return { name, contexts, args: [1, 1], apply(d) { if (!/^\d+$/.test(d.args[0])) invalid(d, 'number'); } };
}

function time(name: string, contexts: DirectiveRow['contexts']): DirectiveRow {
  return { name, contexts, args: [1, 1], apply(d) { if (parseTime(d.args[0]) === null) invalid(d, 'value'); } };
}

function param(d: Directive, p: string): never {
  throw confError('TRESTY_ERR_CONF_VALUE', `invalid "${d.name}" parameter "${p}"`, d);
}

export const tuningDirectives: readonly DirectiveRow[] = [
  flag('pcre_jit', ['main']),
  // Debian's nginx.conf loads its dynamic modules (modules-enabled/*.conf). tresty's modules are
  // built in, and a directive of a module it lacks is refused where it is used.
  { name: 'load_module', contexts: ['main'], args: [1, 1], multiple: true, apply() {} },
  { name: 'lock_file', contexts: ['main'], args: [1, 1], apply() {} },
  time('timer_resolution', ['main']),
  flag('accept_mutex', ['events']),
  time('accept_mutex_delay', ['events']),
  {
    // `thread_pool NAME threads=N [max_queue=N]`: nginx's pools for aio threads; tresty has none.
    name: 'thread_pool', contexts: ['main'], args: [2, 3], multiple: true,
    apply(d) {
      for (const p of d.args.slice(1)) {
        const m = /^(threads|max_queue)=(\d+)$/.exec(p);
        if (!m) param(d, p);
        if (m[1] === 'threads' && Number(m[2]) === 0) throw confError('TRESTY_ERR_CONF_VALUE', `invalid threads value "${p}"`, d);
      }
      if (!d.args.slice(1).some((p) => p.startsWith('threads='))) {
        throw confError('TRESTY_ERR_CONF_VALUE', `"${d.name}" must have "threads" parameter`, d);
      }
    },
  },
  {
    // A number, as nginx's (no range check: setpriority(2) clamps to -20..19 itself). Applied
    // by each worker at start (workers/http-worker.ts).
    name: 'worker_priority', contexts: ['main'], args: [1, 1],
    apply(d, s) {
      if (!/^[-+]?\d+$/.test(d.args[0])) invalid(d, 'number');
      s.main.workerPriority = Math.max(-20, Math.min(19, Number(d.args[0])));
    },
  },
  num('types_hash_max_size', HSL),
  num('types_hash_bucket_size', HSL),
  num('server_names_hash_max_size', ['http']),
  num('server_names_hash_bucket_size', ['http']),
  num('variables_hash_max_size', ['http']),
  num('variables_hash_bucket_size', ['http']),
  num('proxy_headers_hash_max_size', HSL),
  num('proxy_headers_hash_bucket_size', HSL),
  {
    name: 'open_file_cache', contexts: HSL, args: [1, 2],
    apply(d) {
      if (d.args[0] === 'off' && d.args.length === 1) return;
      let max = false;
      for (const p of d.args) {
        if (/^max=[1-9]\d*$/.test(p)) max = true;
        else if (!(p.startsWith('inactive=') && parseTime(p.slice(9)) !== null)) param(d, p);
      }
      if (!max) throw confError('TRESTY_ERR_CONF_VALUE', '"open_file_cache" must have the "max" parameter', d);
    },
  },
  time('open_file_cache_valid', HSL),
  num('open_file_cache_min_uses', HSL),
  flag('open_file_cache_errors', HSL),
  {
    name: 'output_buffers', contexts: HSL, args: [2, 2],
    apply(d) { if (!/^[1-9]\d*$/.test(d.args[0]) || !parseSize(d.args[1])) invalid(d, 'value'); },
  },
  size('postpone_output', HSL),
  {
    name: 'aio', contexts: HSL, args: [1, 1],
    apply(d) { if (!/^(on|off|threads(=\S+)?)$/.test(d.args[0])) invalid(d, 'value'); },
  },
  {
    name: 'directio', contexts: HSL, args: [1, 1],
    apply(d) { if (d.args[0] !== 'off' && parseSize(d.args[0]) === null) invalid(d, 'value'); },
  },
  size('directio_alignment', HSL),
  {
    // nginx's workarounds for MSIE 6 (POST) and old Safari; tresty keeps every browser alive.
    name: 'keepalive_disable', contexts: HSL, args: [1, 2],
    apply(d) {
      for (const v of d.args) if (v !== 'none' && v !== 'msie6' && v !== 'safari') throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${v}"`, d);
    },
  },
  flag('msie_padding', HSL),
  flag('msie_refresh', HSL),
  ...moreTuning(),
];

/** nginx's pool sizes: at least its minimum pool, in 16-byte steps. */
function poolSize(name: string): DirectiveRow {
  return {
    name, contexts: ['http', 'server'], args: [1, 1],
    apply(d) {
      const v = parseSize(d.args[0]);
      if (v === null) invalid(d, 'value');
      if (v < 112) throw confError('TRESTY_ERR_CONF_VALUE', 'the pool size must be no less than 112', d);
      if (v % 16 !== 0) throw confError('TRESTY_ERR_CONF_VALUE', 'the pool size must be a multiple of 16', d);
    },
  };
}

/** A size that must be one of `sizes` (zlib's window and memory level), with nginx's words. */
function oneOf(name: string, sizes: readonly string[]): DirectiveRow {
  const bytes = sizes.map((s) => parseSize(s));
  return {
    name, contexts: HSL, args: [1, 1],
    apply(d) {
      if (!bytes.includes(parseSize(d.args[0]))) {
        throw confError('TRESTY_ERR_CONF_VALUE', `"${name}" directive must be ${sizes.slice(0, -1).join(', ')}, or ${sizes[sizes.length - 1]}`, d);
      }
    },
  };
}

/** An address or CIDR (v4 or v6), or `unix:`: what debug_connection names without a lookup. */
const DEBUG_PEER = /^(unix:|[\d.]+(\/\d+)?|[\da-fA-F:]*:[\da-fA-F:.]*(\/\d+)?)$/;

function moreTuning(): DirectiveRow[] {
  return [
    {
      // nginx's reaction to an internal error it detects (a debug aid): nothing to stop here.
      name: 'debug_points', contexts: ['main'], args: [1, 1],
      apply(d) { if (d.args[0] !== 'stop' && d.args[0] !== 'abort') throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${d.args[0]}"`, d); },
    },
    num('worker_aio_requests', ['events']),
    num('epoll_events', ['events']),
    {
      // debug logging for some clients: nginx built without --with-debug (Debian's) takes and ignores it.
      name: 'debug_connection', contexts: ['events'], args: [1, 1], multiple: true,
      apply(d) { if (!DEBUG_PEER.test(d.args[0])) throw confError('TRESTY_ERR_CONF_VALUE', `host not found in debug_connection "${d.args[0]}"`, d); },
    },
    poolSize('connection_pool_size'),
    poolSize('request_pool_size'),
    size('read_ahead', HSL),
    flag('open_file_cache_events', HSL),
    size('subrequest_output_buffer_size', HSL),
    oneOf('gzip_hash', ['512', '1k', '2k', '4k', '8k', '16k', '32k', '64k', '128k']),
    oneOf('gzip_window', ['512', '1k', '2k', '4k', '8k', '16k', '32k']),
    flag('gzip_no_buffer', HSL),
    size('postpone_gzipping', HSL),
    size('http2_pool_size', ['http', 'server']),
    flag('ssl_early_data', ['http', 'server']),
    { name: 'ssl_session_ticket_key', contexts: ['http', 'server'], args: [1, 1], multiple: true, apply() {} },
    lowat('send_lowat'),
    lowat('proxy_send_lowat'),
  ];
}

/** SO_SNDLOWAT: Linux cannot set it, and nginx says so for any value (a [warn], then ignored). */
function lowat(name: string): DirectiveRow {
  return {
    name, contexts: HSL, args: [1, 1],
    apply(d, s) {
      if (parseSize(d.args[0]) === null) invalid(d, 'value');
      confWarning(s.main, `"${name}" is not supported, ignored`, d);
    },
  };
}
