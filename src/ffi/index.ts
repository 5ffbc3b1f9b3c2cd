// tresty's FFI: ngx.load_ffi (loadFfi), ngx.ffi.NAME (loadPluginsFromConf), worker shutdown
// (unloadAll). Each process loads its own instance of each plugin: one queue per plugin.
import path from 'node:path';
import type { FfiPluginConf } from '../config/types.js';
import { TrestyError } from '../errors.js';
import { openCore } from './core.js';
import { getFormat } from './formats.js';
import { defaultSearchPath } from './locate.js';
import { placeNewPollers } from './placement.js';
import { type Core, type FfiPlugin, Plugin, type PluginOptions } from './plugin.js';

export type { CallOptions, FfiPlugin, PluginOptions } from './plugin.js';
export type { AbortLike } from './call.js';
export { FfiRuntimeError } from './plugin.js';
export { setFfiWarn } from './core.js';
export type { FormatName } from './formats.js';

const DEFAULTS = { format: 'string', maxQueue: 65536, timeoutMs: 60_000, maxResponseSize: 16 * 1024 * 1024 } as const; // as the conf's

const cores = new Map<string, Core>(); // by (lib, cfg, kind, symbol, loader paths): one queue per library instance
const plugins = new Map<string, FfiPlugin>(); // by everything that shapes a handle

function coreKey(lib: string, cfg: string | null, opts: PluginOptions): string {
  const kind = opts.kind ?? 'runtime';
  const paths = [opts.pythonPath ?? [], opts.classPath ?? []].map((l) => l.map((p) => path.resolve(p)));
  return JSON.stringify([lib, cfg, kind, kind === 'function' ? opts.symbol ?? '' : '', opts.blocking ?? true,
    opts.maxResponseSize ?? DEFAULTS.maxResponseSize, ...paths]);
}

function coreFor(lib: string, cfg: string | null, opts: PluginOptions, extraPath: readonly string[]): Core {
  const kind = opts.kind ?? 'runtime';
  const key = coreKey(lib, cfg, opts);
  let core = cores.get(key);
  if (!core) {
    const maxQueue = opts.maxQueue ?? DEFAULTS.maxQueue;
    if (!Number.isInteger(maxQueue) || maxQueue < 1) {
      throw new TrestyError('TRESTY_ERR_API_ARGS', `ffi maxQueue must be a positive integer, got ${maxQueue}`);
    }
    const maxResponse = opts.maxResponseSize ?? DEFAULTS.maxResponseSize;
    if (!Number.isInteger(maxResponse) || maxResponse < 1 || maxResponse > 0xffffffff) {
      throw new TrestyError('TRESTY_ERR_API_ARGS', `ffi maxResponseSize must be a positive integer under 4 GiB, got ${maxResponse}`);
    }
    const opened = openCore({
      lib, cfg, kind, symbol: opts.symbol, maxQueue, maxResponse, blocking: opts.blocking ?? true,
      pythonPath: opts.pythonPath?.map((p) => path.resolve(p)), classPath: opts.classPath?.map((p) => path.resolve(p)),
      searchPath: [...extraPath, ...(opts.searchPath ?? defaultSearchPath())],
    });
    const unload = opened.unload;
    core = {
      channel: opened.channel, path: opened.path,
      unload: () => {
        cores.delete(key);
        for (const [k, p] of plugins) if (k.startsWith(key)) plugins.delete(k);
        return unload();
      },
    };
    cores.set(key, core);
    if (kind === 'runtime') placeNewPollers();
  }
  return core;
}

function handle(name: string, lib: string, cfg: string | null, opts: PluginOptions, extraPath: readonly string[]): FfiPlugin {
  const format = opts.format ?? DEFAULTS.format;
  const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  const kind = opts.kind ?? 'runtime';
  const key = coreKey(lib, cfg, opts) + JSON.stringify([name, format, timeoutMs]);
  let p = plugins.get(key);
  if (!p) {
    const f = getFormat(format);
    p = new Plugin(name, coreFor(lib, cfg, opts, extraPath), f, timeoutMs);
    plugins.set(key, p);
  }
  return p;
}

/**
 * ngx.load_ffi(lib, cfg, opts): load a runtime (or a function library) once per process and
 * return its plugin; later loads with the same (lib, cfg) share the instance and its queue.
 * Throws TrestyError (TRESTY_ERR_FFI_*) with what to do when the library cannot be used.
 */
export function loadFfi(lib: string, cfg: string | null = null, opts: PluginOptions = {}): FfiPlugin {
  return handle(lib, lib, cfg, opts, []);
}

/** ngx.ffi.NAME for every ffi_plugin block; ffi_library_path is searched first. */
export function loadPluginsFromConf(conf: {
  ffiLibraryPath: readonly string[];
  ffiPlugins: ReadonlyMap<string, FfiPluginConf>;
}): Record<string, FfiPlugin> {
  const out: Record<string, FfiPlugin> = {};
  for (const [name, p] of conf.ffiPlugins) {
    out[name] = handle(name, p.library, p.config, {
      format: p.format, maxQueue: p.maxQueue, timeoutMs: p.timeoutMs, kind: p.kind, symbol: p.symbol,
      maxResponseSize: p.maxResponseSize, blocking: p.blocking,
      pythonPath: p.pythonPath && [...p.pythonPath], classPath: p.classPath && [...p.classPath],
    }, conf.ffiLibraryPath);
  }
  return out;
}

/** Worker shutdown: drain and unload every plugin this process loaded. */
export async function unloadAll(): Promise<void> {
  await Promise.all([...cores.values()].map((c) => c.unload()));
}
