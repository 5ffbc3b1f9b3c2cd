// The compiled tresty modules the benchmarks use, from dist/ (built by `npm run build`). A
// missing build is a clear message, not a stack trace.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NATIVE_BUILD = path.join(ROOT, 'native', 'build');

/** Imports dist/<rel>; rejects with what to run when it is not built. */
export async function importDist(rel) {
  const file = path.join(ROOT, 'dist', rel);
  if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is not built: run "npm run build"`);
  return import(pathToFileURL(file).href);
}
