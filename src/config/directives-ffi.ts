// FFI directives: `ffi_library_path dir ...;` and `ffi_plugin NAME { ... }`.

import { confError, type DirectiveRow, invalidValue } from './table.js';
import { pathList } from './directives-js.js';
import { parseFlag, parseSize, parseTime } from './values.js';

const FORMATS = ['raw', 'string', 'json', 'msgpack'] as const;

export const ffiDirectives: readonly DirectiveRow[] = [
  {
    name: 'ffi_library_path', contexts: ['http'], args: [1, 16],
    apply(d, s, ctx) { s.main.ffiLibraryPath.push(...pathList(d.args, ctx)); },
  },
  {
    name: 'ffi_plugin', contexts: ['http'], args: [1, 1], block: 'block', multiple: true,
    apply(d, s, ctx) {
      const name = d.args[0];
      if (!/^[A-Za-z_][\w]*$/.test(name)) throw confError('TRESTY_ERR_CONF_VALUE', `invalid ffi_plugin name "${name}"`, d);
      if (s.main.ffiPlugins.has(name)) throw confError('TRESTY_ERR_CONF_DUPLICATE', `duplicate ffi_plugin "${name}"`, d);
      const plugin = { name, ref: { file: d.file, line: d.line } };
      s.main.ffiPlugins.set(name, plugin);
      ctx.walk(d.block!, { kind: 'ffi_plugin', main: s.main, http: s.http, plugin, seen: new Set() });
    },
  },
  { name: 'library', contexts: ['ffi_plugin'], args: [1, 1], apply(d, s, ctx) {
    const v = d.args[0];
    // A bare name is looked up on ffi_library_path; anything with a slash is a path.
    s.plugin!.library = v.includes('/') ? ctx.abs(v) : v;
  } },
  { name: 'config', contexts: ['ffi_plugin'], args: [1, 1], apply(d, s) { s.plugin!.config = d.args[0]; } },
  { name: 'symbol', contexts: ['ffi_plugin'], args: [1, 1], apply(d, s) { s.plugin!.symbol = d.args[0]; } },
  {
    name: 'kind', contexts: ['ffi_plugin'], args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v !== 'runtime' && v !== 'function') throw invalidValue(d, v);
      s.plugin!.kind = v;
    },
  },
  {
    name: 'format', contexts: ['ffi_plugin'], args: [1, 1],
    apply(d, s) {
      const v = d.args[0] as (typeof FORMATS)[number];
      if (!FORMATS.includes(v)) {
        throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${v}" in "format" directive, it must be one of ${FORMATS.join(', ')}`, d);
      }
      s.plugin!.format = v;
    },
  },
  {
    name: 'max_queue', contexts: ['ffi_plugin'], args: [1, 1],
    apply(d, s) {
      if (!/^[1-9]\d*$/.test(d.args[0])) throw invalidValue(d, d.args[0]);
      s.plugin!.maxQueue = Number(d.args[0]);
    },
  },
  {
    name: 'timeout', contexts: ['ffi_plugin'], args: [1, 1],
    apply(d, s) {
      const v = parseTime(d.args[0]);
      if (v === null) throw invalidValue(d, d.args[0]);
      s.plugin!.timeoutMs = v;
    },
  },
  {
    name: 'max_response_size', contexts: ['ffi_plugin'], args: [1, 1],
    apply(d, s) {
      const v = parseSize(d.args[0]);
      if (v === null || v < 1 || v > 0xffffffff) throw invalidValue(d, d.args[0]);
      s.plugin!.maxResponseSize = v;
    },
  },
  {
    // off: a function library that never blocks, called on the event loop (no thread hand-off).
    name: 'blocking', contexts: ['ffi_plugin'], args: [1, 1],
    apply(d, s) {
      const v = parseFlag(d.args[0]);
      if (v === null) throw invalidValue(d, d.args[0]);
      s.plugin!.blocking = v;
    },
  },
];
