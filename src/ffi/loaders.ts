// The Python and Java loaders (native/loaders/) are runtimes like any other; two optional
// exports let tresty hand them a plugin's search path before libffi_init and read back why a
// load failed (the Python traceback, the Java stack trace) to put it in the error.
import { TrestyError } from '../errors.js';
import type { PluginLibrary } from './bindings.js';

export interface LoaderPaths {
  /** python_path: directories put on the worker interpreter's sys.path. */
  pythonPath?: readonly string[];
  /** class_path: directories and jars searched for the plugin's class. */
  classPath?: readonly string[];
}

const HOOKS = [
  { opt: 'pythonPath', directive: 'python_path', symbol: 'tresty_python_path', loader: 'the Python loader (ffi_python3)' },
  { opt: 'classPath', directive: 'class_path', symbol: 'tresty_class_path', loader: 'the Java loader (ffi_java)' },
] as const;

/** Before libffi_init: the plugin's paths go to the loader, which must be the right one. */
export function handLoaderPaths(lib: PluginLibrary, paths: LoaderPaths): void {
  for (const h of HOOKS) {
    const list = paths[h.opt];
    if (!list || list.length === 0) continue;
    let fn: (paths: string) => number;
    try {
      fn = lib.func(`int ${h.symbol}(const char *paths)`) as typeof fn;
    } catch (e) {
      throw new TrestyError('TRESTY_ERR_FFI_SYMBOL',
        `${h.directive} is set, but ${lib.path} is not ${h.loader}: it does not export ${h.symbol}`, { cause: e });
    }
    fn(list.join(':'));
  }
}

/** After a failed libffi_init: the loader's account of it, or '' for other runtimes. */
export function loaderError(lib: PluginLibrary): string {
  try {
    const fn = lib.func('const char *tresty_loader_error(void)') as () => string | null;
    return fn() ?? '';
  } catch {
    return '';
  }
}
