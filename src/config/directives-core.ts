// Core directives: process, events, http, server, location, logs, static files.

import { confRegex } from './conf-regex.js';
import os from 'node:os';
import type { Directive } from './ast.js';
import { type BlockState, type LocationBuilder, type ServerBuilder, newSettings } from './builders.js';
import { compileLocation } from './location-spec.js';
import { confError, type DirectiveRow, flagError, invalidValue } from './table.js';
import type { LogLevel, ServerName } from './types.js';
import { parseFlag, parseListenAddress, parseSize, parseTime } from './values.js';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'notice', 'warn', 'error', 'crit', 'alert', 'emerg'];
const HSL = ['http', 'server', 'location'] as const;

function settings(state: BlockState) {
  // The table only routes these directives to http/server/location, which all have settings.
  return state.settings!;
}

function parseServerName(d: Directive, name: string): ServerName {
  if (name.startsWith('~')) {
    // PCRE, translated (src/pcre.ts): (?P<n>...) names, \A, POSIX classes ...
    const src = name.slice(1);
    try {
      return { kind: 'regex', value: name, regex: confRegex(src, true) };
    } catch (e) {
      throw confError('TRESTY_ERR_CONF_VALUE', `invalid server name regex "${name}": ${(e as Error).message}`, d);
    }
  }
  const lower = name.toLowerCase();
  if (lower.startsWith('*.')) return { kind: 'wildcard_start', value: lower };
  // `.example.com` keeps its dot: vhost.ts matches example.com too by it (`*.` would not).
  if (lower.startsWith('.')) return { kind: 'wildcard_start', value: lower };
  if (lower.endsWith('.*')) return { kind: 'wildcard_end', value: lower };
  if (lower.includes('*')) throw confError('TRESTY_ERR_CONF_VALUE', `invalid server name or wildcard "${name}"`, d);
  return { kind: 'exact', value: lower };
}

const MAX_CPUS = 1024; // glibc's CPU_SETSIZE, as nginx on Linux

/** The CPU numbers a worker_cpu_affinity mask sets ("0101": CPUs 0 and 2). */
function cpuMask(d: Directive, mask: string): number[] {
  if (mask.length > MAX_CPUS) throw confError('TRESTY_ERR_CONF_VALUE', `"${d.name}" supports up to ${MAX_CPUS} CPUs only`, d);
  const bad = /[^01]/.exec(mask);
  if (bad) throw confError('TRESTY_ERR_CONF_VALUE', `invalid character "${bad[0]}" in "${d.name}"`, d);
  const cpus: number[] = [];
  for (let i = mask.length - 1, cpu = 0; i >= 0; i--, cpu++) if (mask[i] === '1') cpus.push(cpu);
  return cpus;
}

const LISTEN_FLAGS = /^(default_server|default|reuseport|bind|deferred|backlog=\d+|ssl|http2)$/;

export const coreDirectives: readonly DirectiveRow[] = [
  {
    name: 'worker_processes', contexts: ['main'], args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v === 'auto') s.main.workerProcesses = os.availableParallelism();
      else if (/^[1-9]\d*$/.test(v)) s.main.workerProcesses = Number(v);
      else throw invalidValue(d, v);
    },
  },
  {
    // nginx's: `auto [mask]` or one mask per worker; a mask is binary, its rightmost digit CPU 0.
    name: 'worker_cpu_affinity', contexts: ['main'], args: [1, MAX_CPUS],
    apply(d, s) {
      const auto = d.args[0] === 'auto';
      if (auto && d.args.length > 2) throw confError('TRESTY_ERR_CONF_ARGS', `invalid number of arguments in "${d.name}" directive`, d);
      const masks = d.args.slice(auto ? 1 : 0).map((m) => cpuMask(d, m));
      s.main.workerCpuAffinity = auto ? { auto, cpus: masks[0] ?? null } : { auto, masks };
    },
  },
  {
    // tresty's own: where a bound worker's FFI pollers run. `same` (the default): with their
    // worker; `next`: on the next worker's CPUs, so a hand-off does not wait for the worker to
    // yield its core (bench/README.md, "Pollers on the other worker's core").
    name: 'ffi_poller_cpu_affinity', contexts: ['main'], args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v !== 'same' && v !== 'next') throw invalidValue(d, v);
      s.main.ffiPollerCpuAffinity = { mode: v, ref: { file: d.file, line: d.line } };
    },
  },
  {
    // tresty's own: the pollers' scheduling policy. `fifo`: real time, on their worker's one CPU,
    // so the worker's wake switches to its poller on the spot, with no other core to wake
    // (bench/README.md, "Real-time pollers on their worker's core").
    name: 'ffi_poller_sched', contexts: ['main'], args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v !== 'other' && v !== 'fifo') throw invalidValue(d, v);
      s.main.ffiPollerSched = { mode: v, ref: { file: d.file, line: d.line } };
    },
  },
  {
    name: 'error_log', contexts: ['main', 'http'], args: [1, 2], multiple: true,
    apply(d, s, ctx) {
      const level = (d.args[1] ?? 'error') as LogLevel;
      if (!LEVELS.includes(level)) throw confError('TRESTY_ERR_CONF_VALUE', `invalid log level "${d.args[1]}"`, d);
      const p = d.args[0];
      s.main.errorLog.push({ path: p === 'stderr' || p === '/dev/stderr' ? 'stderr' : ctx.abs(p), level });
    },
  },
  { name: 'pid', contexts: ['main'], args: [1, 1], apply(d, s, ctx) { s.main.pid = ctx.abs(d.args[0]); } },
  {
    name: 'daemon', contexts: ['main'], args: [1, 1],
    apply(d, s) {
      const f = parseFlag(d.args[0]);
      if (f === null) throw flagError(d);
      s.main.daemon = f;
    },
  },
  {
    // Accepted so nginx confs load; tresty always runs a master (node:cluster primary).
    name: 'master_process', contexts: ['main'], args: [1, 1],
    apply(d) { if (parseFlag(d.args[0]) === null) throw flagError(d); },
  },
  {
    name: 'events', contexts: ['main'], args: [0, 0], block: 'block',
    apply(d, s, ctx) { ctx.walk(d.block!, { kind: 'events', main: s.main, seen: new Set() }); },
  },
  {
    name: 'worker_connections', contexts: ['events'], args: [1, 1],
    apply(d, s) {
      if (!/^[1-9]\d*$/.test(d.args[0])) throw invalidValue(d, d.args[0]);
      s.main.workerConnections = Number(d.args[0]);
    },
  },
  {
    // Beyond nginx (src/master/watchdog.ts): off, or how long an event loop may stay blocked.
    name: 'worker_watchdog_timeout', contexts: ['main'], args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      const ms = v === 'off' ? 0 : parseTime(v);
      if (ms === null || (v !== 'off' && ms < 100)) throw invalidValue(d, v);
      s.main.workerWatchdogTimeout = ms;
    },
  },
  // Accepted for nginx compatibility; libuv picks the event method.
  { name: 'use', contexts: ['events'], args: [1, 1], apply() {} },
  {
    // The native engine's accept loop (native/engine/pass.c); libuv (node:http) always takes all.
    name: 'multi_accept', contexts: ['events'], args: [1, 1],
    apply(d, s) {
      const on = parseFlag(d.args[0]);
      if (on === null) throw flagError(d);
      s.main.multiAccept = on;
    },
  },
  {
    name: 'http', contexts: ['main'], args: [0, 0], block: 'block',
    apply(d, s, ctx) {
      const http = {
        settings: newSettings(), servers: [], logFormats: new Map<string, string>(), mimeTypes: new Map<string, string>(),
        // nginx merges the blocks' settings at the http block's `}`: errors found then name it.
        end: { file: d.file, line: d.endLine ?? d.line },
      };
      s.main.http = http;
      ctx.walk(d.block!, { kind: 'http', main: s.main, http, settings: http.settings, seen: new Set() });
    },
  },
  {
    name: 'server', contexts: ['http'], args: [0, 0], block: 'block', multiple: true,
    apply(d, s, ctx) {
      const server: ServerBuilder = {
        ref: { file: d.file, line: d.line }, listen: [], serverNames: [], settings: newSettings(), rewriteOps: [],
        locations: [], named: new Map(), variables: new Set(),
      };
      s.http!.servers.push(server);
      ctx.walk(d.block!, {
        kind: 'server', main: s.main, http: s.http, server, settings: server.settings, rewriteOps: server.rewriteOps,
        seen: new Set(),
      });
    },
  },
  {
    name: 'listen', contexts: ['server'], args: [1, 8], multiple: true,
    apply(d, s) {
      const addr = parseListenAddress(d.args[0]);
      if ('error' in addr) throw confError('TRESTY_ERR_CONF_VALUE', addr.error, d);
      let defaultServer = false;
      for (const flag of d.args.slice(1)) {
        if (!LISTEN_FLAGS.test(flag)) throw confError('TRESTY_ERR_CONF_VALUE', `invalid parameter "${flag}"`, d);
        if (flag === 'default_server' || flag === 'default') defaultServer = true;
      }
      const flags = d.args.slice(1);
      const tls = flags.includes('ssl') ? { ssl: true, http2: flags.includes('http2') } : {};
      if (flags.includes('http2') && !flags.includes('ssl')) {
        throw confError('TRESTY_ERR_CONF_VALUE', 'tresty serves "http2" on "ssl" listens only (h2 over TLS)', d);
      }
      s.server!.listen.push({ ...addr, defaultServer, ...tls, ref: { file: d.file, line: d.line } });
    },
  },
  {
    name: 'server_name', contexts: ['server'], args: [1, 64], multiple: true,
    apply(d, s) { for (const n of d.args) s.server!.serverNames.push(parseServerName(d, n)); },
  },
  {
    name: 'location', contexts: ['server', 'location'], args: [1, 2], block: 'block', multiple: true,
    apply(d, s, ctx) {
      const spec = compileLocation(d, s.location);
      const loc: LocationBuilder = { ...spec, ref: { file: d.file, line: d.line }, settings: newSettings(), rewriteOps: [], locations: [] };
      if (loc.modifier === '@') {
        if (s.location) throw confError('TRESTY_ERR_CONF_NOT_ALLOWED', `named location "@${loc.pattern}" can be on the server level only`, d);
        if (s.server!.named.has(loc.pattern)) throw confError('TRESTY_ERR_CONF_DUPLICATE', `duplicate location "@${loc.pattern}"`, d);
        s.server!.named.set(loc.pattern, loc);
      } else {
        const siblings = s.location ? s.location.locations : s.server!.locations;
        if (siblings.some((o) => o.modifier !== '~' && o.modifier !== '~*' && loc.modifier !== '~' && loc.modifier !== '~*'
          && o.pattern === loc.pattern && (o.modifier === '=') === (loc.modifier === '='))) {
          throw confError('TRESTY_ERR_CONF_DUPLICATE', `duplicate location "${loc.pattern}"`, d);
        }
        siblings.push(loc);
      }
      ctx.walk(d.block!, {
        kind: 'location', main: s.main, http: s.http, server: s.server, location: loc, settings: loc.settings,
        rewriteOps: loc.rewriteOps, seen: new Set(),
      });
    },
  },
  {
    name: 'log_format', contexts: ['http'], args: [2, 64], multiple: true,
    apply(d, s) {
      const [name, ...parts] = d.args;
      // `escape=` is nginx's; tresty escapes as nginx's default.
      const text = parts.filter((p) => !p.startsWith('escape=')).join('');
      if (name === 'combined' || s.http!.logFormats.has(name)) {
        throw confError('TRESTY_ERR_CONF_DUPLICATE', `duplicate "log_format" name "${name}"`, d);
      }
      s.http!.logFormats.set(name, text);
    },
  },
  {
    name: 'access_log', contexts: [...HSL, 'lif'], args: [1, 4], multiple: true,
    apply(d, s, ctx) {
      const set = settings(s);
      set.accessLog ??= [];
      if (d.args[0] === 'off') {
        if (d.args.length > 1) throw confError('TRESTY_ERR_CONF_ARGS', 'invalid number of arguments in "access_log" directive', d);
        set.accessLog.push('off');
        return;
      }
      const format = d.args[1] ?? 'combined';
      if (format !== 'combined' && !s.http!.logFormats.has(format)) {
        throw confError('TRESTY_ERR_CONF_VALUE', `unknown log format "${format}"`, d);
      }
      set.accessLog.push({ path: d.args[0] === 'stderr' ? 'stderr' : ctx.abs(d.args[0]), format });
    },
  },
  // With variables, kept as written: the value is made absolute per request (a `$var` may hold a
  // whole absolute path), as nginx's map_uri_to_path does.
  { name: 'root', contexts: [...HSL, 'lif'], args: [1, 1], apply(d, s, ctx) { settings(s).root = d.args[0].includes('$') ? d.args[0] : ctx.abs(d.args[0]); } },
  { name: 'index', contexts: HSL, args: [1, 32], apply(d, s) { settings(s).index = [...d.args]; } },
  { name: 'default_type', contexts: HSL, args: [1, 1], apply(d, s) { settings(s).defaultType = d.args[0]; } },
  {
    name: 'types', contexts: ['http'], args: [0, 0], block: 'block',
    apply(d, s) {
      for (const row of d.block!) {
        if (row.block || row.raw) throw confError('TRESTY_ERR_CONF_SYNTAX', 'unexpected "{"', row);
        for (const ext of row.args) s.http!.mimeTypes.set(ext.toLowerCase(), row.name);
      }
    },
  },
  {
    name: 'client_max_body_size', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = parseSize(d.args[0]);
      if (v === null) throw confError('TRESTY_ERR_CONF_VALUE', `"client_max_body_size" directive invalid value "${d.args[0]}"`, d);
      settings(s).clientMaxBodySize = v;
    },
  },
  {
    name: 'keepalive_timeout', contexts: HSL, args: [1, 2],
    apply(d, s) {
      const v = parseTime(d.args[0]);
      if (v === null) throw confError('TRESTY_ERR_CONF_VALUE', `"keepalive_timeout" directive invalid value "${d.args[0]}"`, d);
      settings(s).keepaliveTimeout = v;
    },
  },
  // Accepted so common nginx confs load (sendfile is in directives-http.ts).
  ...['tcp_nopush', 'tcp_nodelay'].map((name): DirectiveRow => ({
    name, contexts: HSL, args: [1, 1], apply(d) { if (parseFlag(d.args[0]) === null) throw flagError(d); },
  })),
];
