// Where things are on disk: the package root, the host library, the pool thread entry, and
// plugin libraries on a search path (lib<name>.so, as ffi_library_path promises).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrestyError } from '../errors.js';
import { builtHint } from './built-by.js';

let root: string | undefined;

/** The tresty package root: the nearest directory up from here whose package.json is tresty's. */
export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'tresty') return (root = dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error('tresty: cannot find the package root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export function hostLibraryPath(): string {
  const p = process.env.TRESTY_HOST_LIB ?? path.join(packageRoot(), 'native', 'build', 'libtresty_host.so');
  if (!existsSync(p)) {
    throw new TrestyError('TRESTY_ERR_FFI_UNAVAILABLE',
      `the native host library ${p} is not built: run "npm run build" (needs make and a C compiler)`);
  }
  return p;
}

export function poolThreadPath(): string {
  const p = path.join(packageRoot(), 'dist', 'workers', 'ffi-pool-thread.js');
  if (!existsSync(p)) {
    throw new TrestyError('TRESTY_ERR_FFI_UNAVAILABLE', `the FFI pool thread ${p} is not built: run "npm run build"`);
  }
  return p;
}

/** TRESTY_FFI_PATH, then LD_LIBRARY_PATH, then the package's own native/build. */
export function defaultSearchPath(): string[] {
  const fromEnv = (v: string | undefined) => (v ? v.split(':').filter(Boolean) : []);
  return [...fromEnv(process.env.TRESTY_FFI_PATH), ...fromEnv(process.env.LD_LIBRARY_PATH),
    path.join(packageRoot(), 'native', 'build')];
}

/** A library name or path to a file; the error names every path tried. */
export function findLibrary(lib: string, searchPath: readonly string[]): string {
  if (lib.length === 0) throw new TrestyError('TRESTY_ERR_FFI_NOT_FOUND', 'ffi library name is empty');
  const tried: string[] = [];
  if (lib.includes('/')) {
    const p = path.resolve(lib);
    if (existsSync(p)) return p;
    tried.push(p);
  } else {
    const files = lib.endsWith('.so') ? [lib] : [`lib${lib}.so`];
    // The conf's ffi_library_path often repeats a default folder: try (and name) each once.
    for (const dir of new Set(searchPath.map((d) => path.resolve(d)))) {
      for (const f of files) {
        const p = path.resolve(dir, f);
        if (existsSync(p)) return p;
        tried.push(p);
      }
    }
  }
  throw new TrestyError('TRESTY_ERR_FFI_NOT_FOUND',
    `ffi library "${lib}" not found; searched: ${tried.length ? tried.join(', ') : '(empty search path)'}. ` +
    'Build it into one of these directories or add its directory to ffi_library_path (or TRESTY_FFI_PATH)' + builtHint(lib));
}
