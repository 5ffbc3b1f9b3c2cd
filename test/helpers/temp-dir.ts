// A fresh folder under the OS temp dir for the length of one call: `fn` gets its path, and the
// folder goes when `fn` returns, throws, or (an async fn) settles, so a failing test leaves
// nothing behind. For a folder that lives across beforeAll/afterAll, use mkdtemp directly.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function withTempDir<T>(prefix: string, fn: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  let out: T;
  try {
    out = fn(dir);
  } catch (e) {
    remove();
    throw e;
  }
  // An async fn: remove once it settles, not when it first awaits.
  if (out instanceof Promise) return out.finally(remove) as T;
  remove();
  return out;
}
