// The cache's sweeper (nginx's cache manager), run by one worker (worker 0): entries unread for
// `inactive` go, then the least recently read ones while the folder holds more than max_size;
// temp and lock files left by a worker that died go too. It paces itself by `inactive`.

import fs from 'node:fs';
import path from 'node:path';
import type { CacheZoneConf } from '../config/types-cache.js';

/** Temp and lock files older than this were left by a writer that died. */
const LEFTOVER_AGE = 10 * 60_000;

interface Found { readonly file: string; readonly size: number; readonly atime: number }

async function walk(dir: string, depth: number, out: Found[], now: number): Promise<void> {
  let names: fs.Dirent[];
  try {
    names = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const d of names) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) {
      if (depth > 0) await walk(p, depth - 1, out, now);
      continue;
    }
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(p);
    } catch {
      continue;
    }
    if (d.name.endsWith('.tmp') || d.name.endsWith('.lock')) {
      if (now - st.mtimeMs > LEFTOVER_AGE) await fs.promises.rm(p, { force: true });
      continue;
    }
    out.push({ file: p, size: st.size, atime: Math.max(st.atimeMs, st.mtimeMs) });
  }
}

/** Told each entry file a sweep removes (this worker's kept copy goes with it). */
export type Removed = (zone: string, file: string) => void;

/** One pass over a zone's folder. */
export async function sweep(z: CacheZoneConf, now = Date.now(), removed: Removed = () => undefined): Promise<void> {
  const found: Found[] = [];
  await walk(z.path, z.levels.length, found, now);
  let total = 0;
  const kept: Found[] = [];
  for (const f of found) {
    if (now - f.atime >= z.inactive) {
      await fs.promises.rm(f.file, { force: true });
      removed(z.name, f.file);
    } else {
      kept.push(f);
      total += f.size;
    }
  }
  if (z.maxSize === 0 || total <= z.maxSize) return;
  kept.sort((a, b) => a.atime - b.atime);
  for (const f of kept) {
    if (total <= z.maxSize) break;
    await fs.promises.rm(f.file, { force: true });
    removed(z.name, f.file);
    total -= f.size;
  }
}

/** Sweeps every zone now and then; the timer never keeps the worker alive. */
export function startSweeper(zones: readonly CacheZoneConf[], removed?: Removed): void {
  for (const z of zones) {
    const every = Math.min(5000, Math.max(1000, z.inactive / 2));
    let busy = false;
    const t = setInterval(() => {
      if (busy) return;
      busy = true;
      sweep(z, Date.now(), removed).catch(() => undefined).finally(() => { busy = false; });
    }, every);
    t.unref();
  }
}
