// Load failures are values with a code and a message that says what to do, never a hang.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFfi, loadPluginsFromConf, unloadAll } from '../src/ffi/index.js';
import type { FfiPluginConf } from '../src/config/types.js';
import { ensureNative, testRuntimes } from './ffi-helpers.js';

const searchPath = [testRuntimes];

function loadError(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a load failure');
}

describe('ffi load failures', () => {
  beforeAll(ensureNative);

  it('names every path searched when the library is not found', () => {
    const e = loadError(() => loadFfi('no_such_runtime', null, { searchPath: ['/nowhere/a', testRuntimes] }));
    expect(e.code).toBe('TRESTY_ERR_FFI_NOT_FOUND');
    expect(e.message).toContain('/nowhere/a/libno_such_runtime.so');
    expect(e.message).toContain(path.join(testRuntimes, 'libno_such_runtime.so'));
    expect(e.message).toContain('ffi_library_path');
  });

  it('names a folder given twice on the search path once', () => {
    const e = loadError(() => loadFfi('no_such_runtime', null, { searchPath: ['/nowhere/a', '/nowhere/a/', testRuntimes] }));
    expect(e.message.split('/nowhere/a/libno_such_runtime.so').length - 1).toBe(1);
  });

  it('refuses a library without libffi_init', () => {
    const e = loadError(() => loadFfi('tresty_test_noinit', null, { searchPath }));
    expect(e.code).toBe('TRESTY_ERR_FFI_SYMBOL');
    expect(e.message).toContain('libffi_init');
  });

  it('reports libffi_init returning non-zero', () => {
    const e = loadError(() => loadFfi('tresty_test_initfail', 'some=cfg', { searchPath }));
    expect(e.code).toBe('TRESTY_ERR_FFI_INIT');
    expect(e.message).toContain('returned 5');
    expect(e.message).toContain('"some=cfg"');
  });

  it('refuses a function library without the named symbol', () => {
    const e = loadError(() => loadFfi('tresty_test_fnlib', null, { searchPath, kind: 'function', symbol: 'nope' }));
    expect(e.code).toBe('TRESTY_ERR_FFI_SYMBOL');
    expect(e.message).toContain('nope');
  });

  it('rejects an unknown format at load', () => {
    const e = loadError(() => loadFfi('tresty_test_echo', null, { searchPath, format: 'xml' as 'raw' }));
    expect(e.code).toBe('TRESTY_ERR_API_ARGS');
  });

  it('caches one instance per (lib, cfg) and loads conf plugins from ffi_library_path', async () => {
    const a = loadFfi('tresty_test_echo', null, { searchPath });
    expect(loadFfi('tresty_test_echo', null, { searchPath })).toBe(a);
    const b = loadFfi('tresty_test_echo', 'threads=2', { searchPath });
    expect(b).not.toBe(a);
    const conf: FfiPluginConf = {
      name: 'echo', library: 'tresty_test_echo', config: null, kind: 'runtime', format: 'json',
      maxQueue: 100, timeoutMs: 5000, ref: { file: 'nginx.conf', line: 1 } as FfiPluginConf['ref'],
    };
    const ffi = loadPluginsFromConf({ ffiLibraryPath: [testRuntimes], ffiPlugins: new Map([['echo', conf]]) });
    expect(ffi.echo!.name).toBe('echo');
    expect(await ffi.echo!.call({ a: [1, 'x'] })).toEqual({ a: [1, 'x'] });
    await unloadAll();
  });
});
