// proxy_cache_lock across workers (src/cache/zone.ts): the lock is a file beside the entry, and
// "another worker" here is what that worker leaves on disk: its lock file, then its entry renamed
// in and its lock removed. A worker whose lookup missed must not fill the entry again when the
// other one finished in between, however late this one gets to its lock (a preempted worker on a
// loaded machine: proxy-cache-workers once saw two upstream requests for eight misses).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EntryMeta } from '../src/cache/entry.js';
import { CacheZone } from '../src/cache/zone.js';
import { withTempDir } from './helpers/temp-dir.js';

function zoneAt(dir: string): CacheZone {
  return new CacheZone({ name: 'c', path: dir, levels: [1, 2], keysSize: 1 << 20, inactive: 600_000, maxSize: 0, ref: { file: 't.conf', line: 1 } });
}

const meta = (key: string): EntryMeta => ({
  key, status: 200, headers: ['Content-Type', 'text/plain'], valid: Date.now() + 60_000, date: Date.now(),
  lastModified: null, etag: null, vary: [], varyValues: [],
});

/** What the other worker's filler does when its answer is whole: the entry renamed in. */
function otherWorkerFills(zone: CacheZone, file: string, key: string): void {
  const w = zone.writer(file, meta(key));
  w.write(Buffer.from('filled by the other worker'));
  w.commit();
}

/** The entry file for `key`, its lock held by the other worker (its lock file there). */
function heldByOther(zone: CacheZone, key: string): string {
  const file = zone.file(key);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.lock`, '');
  return file;
}

describe('proxy_cache_lock: a filler that finished between the lookup and the lock', () => {
  it('the lock is taken after the other filler renamed its entry in and released: ready, not a second fill', async () => {
    await withTempDir('tresty-lock-', async (dir) => {
      const zone = zoneAt(dir);
      const other = zoneAt(dir); // the other worker's view of the same folder
      const file = heldByOther(zone, 'GET/x');
      const seen = zone.find(file);
      expect(seen).toEqual({ entry: null, ino: 0 });
      otherWorkerFills(other, file, 'GET/x');
      fs.unlinkSync(`${file}.lock`); // ... and releases, before this worker gets to its lock
      expect(await zone.lock(file, 2000, 5000, seen.ino)).toBe('ready');
      expect(fs.existsSync(`${file}.lock`)).toBe(false);
      expect(zone.lookup(file)?.meta.key).toBe('GET/x');
    });
  });

  it('the other filler finishes while this one waits: ready', async () => {
    await withTempDir('tresty-lock-', async (dir) => {
      const zone = zoneAt(dir);
      const file = heldByOther(zone, 'GET/y');
      const seen = zone.find(file).ino;
      const got = zone.lock(file, 2000, 5000, seen);
      setTimeout(() => {
        otherWorkerFills(zoneAt(dir), file, 'GET/y');
        fs.unlinkSync(`${file}.lock`);
      }, 60);
      expect(await got).toBe('ready');
      expect(fs.existsSync(`${file}.lock`)).toBe(false);
    });
  });

  it('no entry and no filler: mine, with the lock file held until release', async () => {
    await withTempDir('tresty-lock-', async (dir) => {
      const zone = zoneAt(dir);
      const file = zone.file('GET/z');
      expect(await zone.lock(file, 2000, 5000, zone.find(file).ino)).toBe('mine');
      expect(fs.existsSync(`${file}.lock`)).toBe(true);
      zone.release(file);
      expect(fs.existsSync(`${file}.lock`)).toBe(false);
    });
  });

  it('an entry file that cannot be read is no one\'s new fill: its inode is seen, the lock is mine', async () => {
    await withTempDir('tresty-lock-', async (dir) => {
      const zone = zoneAt(dir);
      const file = zone.file('GET/bad');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, 'not an entry');
      const seen = zone.find(file);
      expect(seen.entry).toBeNull();
      expect(seen.ino).not.toBe(0);
      expect(await zone.lock(file, 2000, 5000, seen.ino)).toBe('mine');
      zone.release(file);
    });
  });

  it('the other filler still holds the lock past proxy_cache_lock_timeout: timeout', async () => {
    await withTempDir('tresty-lock-', async (dir) => {
      const zone = zoneAt(dir);
      const file = heldByOther(zone, 'GET/slow');
      expect(await zone.lock(file, 150, 5000, 0)).toBe('timeout');
      expect(fs.existsSync(`${file}.lock`)).toBe(true); // not ours to remove
    });
  });
});
