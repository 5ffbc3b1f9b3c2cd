// The HTTP engine's directives: which engine serves (`http_engine`), and nginx's connection limits
// and timeouts, with nginx's defaults (ENGINE_DEFAULTS). The native engine applies all of them;
// node:http applies keepalive_timeout and client_max_body_size (directives-core.ts).

import type { BlockState } from './builders.js';
import { confError, type DirectiveRow, flagError } from './table.js';
import type { EngineSettings } from './types.js';
import { parseFlag, parseSize, parseTime } from './values.js';

export const ENGINE_DEFAULTS: EngineSettings = Object.freeze({
  clientHeaderTimeout: 60_000,
  clientBodyTimeout: 60_000,
  sendTimeout: 60_000,
  keepaliveRequests: 1000,
  http2MaxConcurrentStreams: 128,
  http2BodyPrereadSize: 65536,
  lingeringClose: 'on',
  lingeringTime: 30_000,
  lingeringTimeout: 5_000,
  resetTimedoutConnection: false,
  clientHeaderBufferSize: 1024,
  largeClientHeaderBuffers: Object.freeze({ number: 4, size: 8192 }),
  underscoresInHeaders: false,
  ignoreInvalidHeaders: true,
  sendfile: false,
});

type Mutable = { -readonly [K in keyof EngineSettings]?: EngineSettings[K] };

function engine(s: BlockState): Mutable {
  return (s.settings!.engine ??= {});
}

function time(name: keyof EngineSettings, directive: string, contexts: DirectiveRow['contexts']): DirectiveRow {
  return {
    name: directive, contexts, args: [1, 1],
    apply(d, s) {
      const v = parseTime(d.args[0]);
      if (v === null) throw confError('TRESTY_ERR_CONF_VALUE', `"${directive}" directive invalid value "${d.args[0]}"`, d);
      (engine(s) as Record<string, unknown>)[name] = v;
    },
  };
}

function flag(name: keyof EngineSettings, directive: string, contexts: DirectiveRow['contexts']): DirectiveRow {
  return {
    name: directive, contexts, args: [1, 1],
    apply(d, s) {
      const v = parseFlag(d.args[0]);
      if (v === null) throw flagError(d);
      (engine(s) as Record<string, unknown>)[name] = v;
    },
  };
}

const HS = ['http', 'server'] as const;
const HSL = ['http', 'server', 'location'] as const;

export const httpDirectives: readonly DirectiveRow[] = [
  {
    name: 'http_engine', contexts: ['http'], args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v !== 'native' && v !== 'node') throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${v}" in "http_engine" directive, it must be "native" or "node"`, d);
      s.http!.engine = v;
      s.http!.engineRef = { file: d.file, line: d.line };
    },
  },
  time('clientHeaderTimeout', 'client_header_timeout', HS),
  time('clientBodyTimeout', 'client_body_timeout', HSL),
  time('sendTimeout', 'send_timeout', HSL),
  time('lingeringTime', 'lingering_time', HSL),
  time('lingeringTimeout', 'lingering_timeout', HSL),
  flag('resetTimedoutConnection', 'reset_timedout_connection', HSL),
  flag('underscoresInHeaders', 'underscores_in_headers', HS),
  flag('ignoreInvalidHeaders', 'ignore_invalid_headers', HS),
  flag('sendfile', 'sendfile', HSL),
  {
    name: 'keepalive_requests', contexts: HSL, args: [1, 1],
    apply(d, s) {
      if (!/^\d+$/.test(d.args[0])) throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${d.args[0]}" in "keepalive_requests" directive`, d);
      engine(s).keepaliveRequests = Number(d.args[0]);
    },
  },
  {
    name: 'lingering_close', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v !== 'on' && v !== 'off' && v !== 'always') {
        throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${v}"`, d);
      }
      engine(s).lingeringClose = v;
    },
  },
  {
    name: 'http2_max_concurrent_streams', contexts: HS, args: [1, 1],
    apply(d, s) {
      if (!/^\d+$/.test(d.args[0])) throw confError('TRESTY_ERR_CONF_VALUE', '"http2_max_concurrent_streams" directive invalid number', d);
      // the SETTINGS field is 32 bits; nginx takes larger numbers, which mean no limit
      engine(s).http2MaxConcurrentStreams = Math.min(Number(d.args[0]), 2 ** 32 - 1);
    },
  },
  {
    name: 'http2_body_preread_size', contexts: HS, args: [1, 1],
    apply(d, s) {
      const v = parseSize(d.args[0]);
      if (v === null) throw confError('TRESTY_ERR_CONF_VALUE', '"http2_body_preread_size" directive invalid value', d);
      if (v > 2 ** 31 - 1) throw confError('TRESTY_ERR_CONF_VALUE', `the maximum body preread buffer size is ${2 ** 31 - 1}`, d);
      engine(s).http2BodyPrereadSize = v;
    },
  },
  {
    name: 'client_header_buffer_size', contexts: HS, args: [1, 1],
    apply(d, s) {
      const v = parseSize(d.args[0]);
      if (v === null || v === 0) throw confError('TRESTY_ERR_CONF_VALUE', `"client_header_buffer_size" directive invalid value "${d.args[0]}"`, d);
      engine(s).clientHeaderBufferSize = v;
    },
  },
  {
    name: 'large_client_header_buffers', contexts: HS, args: [2, 2],
    apply(d, s) {
      const n = /^\d+$/.test(d.args[0]) ? Number(d.args[0]) : NaN;
      const size = parseSize(d.args[1]);
      if (!(n > 0)) throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${d.args[0]}" in "large_client_header_buffers" directive`, d);
      if (size === null || size === 0) throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${d.args[1]}" in "large_client_header_buffers" directive`, d);
      engine(s).largeClientHeaderBuffers = { number: n, size };
    },
  },
];
