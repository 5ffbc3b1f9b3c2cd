// One proxy_cache_path zone in a worker: where an entry lives, its lookup, its writer (a temp
// file renamed in place), the lock that lets one request fill a missing entry while the others
// wait (proxy_cache_lock: a lock file beside the entry, so it holds across workers), and the
// per-worker count of proxy_cache_min_uses.

import fs from 'node:fs';
import path from 'node:path';
import type { CacheZoneConf } from '../config/types-cache.js';
import { TrestyError } from '../errors.js';
import { encodeHeader, type Entry, entryPath, type EntryMeta, hashOf, readEntry, refreshEntry } from './entry.js';

/** How often a lock's waiter looks for the entry (or the lock's end) made by another worker. */
const LOCK_POLL = 20;
/** Requests counted for proxy_cache_min_uses before the counts start again. */
const MAX_COUNTED = 10_000;
/** Whole entries a worker keeps in memory per zone (bytes), each checked by a stat now and then. */
const MEMO_BYTES = 32 * 1024 * 1024;
const MEMO_ENTRY_MAX = 1024 * 1024;
/**
 * How long (ms) a fresh entry kept in memory is served without a stat of its file. The stat was
 * half of a 1 KB HIT's JS (bench/README.md, proxy_cache). What this worker writes, refreshes or
 * sweeps drops its copy at once; another worker's new file or removal is seen within this time.
 */
const STAT_EVERY = 1000;
/** Keys whose file names (md5 and path) a zone keeps; the map starts again past this. */
const NAMES_MAX = 10_000;

let serial = 0;

/** A whole entry kept in memory, and when (epoch ms) a stat last showed it to be its file's. */
interface Kept { readonly entry: Entry; readonly checked: number }

export class CacheZone {
  private readonly counts = new Map<string, number>();
  private readonly local = new Map<string, { done: Promise<void>; release: () => void }>();
  /** Recently read whole entries, least recently used first. */
  private readonly memo = new Map<string, Kept>();
  private memoBytes = 0;
  private readonly names = new Map<string, string>();

  constructor(readonly conf: CacheZoneConf) {}

  file(key: string): string {
    let f = this.names.get(key);
    if (f === undefined) {
      if (this.names.size >= NAMES_MAX) this.names.clear();
      f = entryPath(this.conf.path, this.conf.levels, hashOf(key));
      this.names.set(key, f);
    }
    return f;
  }

  /**
   * The entry at `file`, or null. A whole entry read before is taken from memory when a stat
   * shows the very same file (a new entry is a new file, renamed in: another inode); a fresh one
   * checked less than STAT_EVERY ago is taken without the stat.
   */
  lookup(file: string): Entry | null {
    return this.find(file).entry;
  }

  /** lookup(), with the inode of the file it found there (0: none), readable or not: lock()'s `seen`. */
  find(file: string): { entry: Entry | null; ino: number } {
    const kept = this.memo.get(file);
    if (kept !== undefined) {
      const now = Date.now();
      // Also well within `inactive`, so the access times the sweeper reads stay current.
      if (now < kept.entry.meta.valid && now - kept.checked < Math.min(STAT_EVERY, this.conf.inactive / 4)) {
        return { entry: kept.entry, ino: kept.entry.ino };
      }
    }
    return this.statLookup(file);
  }

  /** This worker replaced or removed the file: its kept entry goes. */
  drop(file: string): void {
    const old = this.memo.get(file);
    if (old === undefined) return;
    this.memo.delete(file);
    this.memoBytes -= old.entry.head.length;
  }

  private statLookup(file: string): { entry: Entry | null; ino: number } {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(file, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    const old = this.memo.get(file)?.entry;
    if (old !== undefined) this.drop(file);
    if (st === undefined) return { entry: null, ino: 0 };
    const e = old !== undefined && old.ino === st.ino && old.mtime === st.mtimeMs && old.bodyAt + old.bodySize === st.size ? old : readEntry(file);
    if (e === null) return { entry: null, ino: st.ino };
    this.remember(file, e);
    // Marks the entry as read for the sweeper's `inactive` (at most a few times per period).
    const now = Date.now();
    if (now - st.atimeMs > Math.min(this.conf.inactive / 4, 60_000)) {
      try {
        fs.utimesSync(file, now / 1000, e.mtime / 1000);
      } catch { /* swept meanwhile */ }
    }
    return { entry: e, ino: st.ino };
  }

  private remember(file: string, e: Entry): void {
    if (e.head.length !== e.bodySize || e.bodySize > MEMO_ENTRY_MAX) return;
    this.memo.set(file, { entry: e, checked: Date.now() });
    this.memoBytes += e.head.length;
    for (const f of this.memo.keys()) {
      if (this.memoBytes <= MEMO_BYTES) break;
      this.drop(f);
    }
  }

  /** proxy_cache_min_uses: this request's count for the key (in this worker). */
  use(file: string): number {
    if (this.counts.size > MAX_COUNTED) this.counts.clear();
    const n = (this.counts.get(file) ?? 0) + 1;
    this.counts.set(file, n);
    return n;
  }

  forget(file: string): void {
    this.counts.delete(file);
  }

  /** A writer for a new entry at `file`; throws TRESTY_ERR_CACHE_IO when the folder is unusable. */
  writer(file: string, meta: EntryMeta, variant: string | null = null): EntryWriter {
    return new EntryWriter(file, meta, variant, (f) => this.drop(f));
  }

  /** A revalidated entry with its new header (a new file renamed in place, as a writer does). */
  refresh(e: Entry, meta: EntryMeta): void {
    const tmp = `${e.path}.${process.pid}.${++serial}.tmp`;
    this.drop(e.path);
    try {
      refreshEntry(e, meta, tmp);
    } catch (err) {
      try { fs.unlinkSync(tmp); } catch { /* never made */ }
      throw ioError('write', tmp, err);
    }
  }

  /**
   * proxy_cache_lock: 'mine' when this request fills the entry (release() after), 'ready' when
   * another did meanwhile, 'timeout' when proxy_cache_lock_timeout passed first. `seen` is the
   * inode of the file the caller's lookup found (0: none): `ready` is any other file in its place,
   * even one renamed in before this call (another worker's filler may have finished and released
   * its lock between the lookup and now).
   */
  async lock(file: string, timeout: number, age: number, seen: number): Promise<'mine' | 'ready' | 'timeout'> {
    const until = Date.now() + timeout;
    const filled = (): boolean => {
      const now = inodeOf(file);
      return now !== 0 && now !== seen;
    };
    for (;;) {
      const l = this.local.get(file);
      if (l === undefined) {
        if (this.takeLockFile(file, age)) {
          // A filler renames its entry in before it removes its lock: holding the lock now, a
          // new file there is surely visible, so this request must not fill it again.
          if (filled()) {
            this.unlinkLock(file);
            return 'ready';
          }
          let release!: () => void;
          const done = new Promise<void>((r) => { release = r; });
          this.local.set(file, { done, release });
          return 'mine';
        }
      }
      const left = until - Date.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(LOCK_POLL, left));
        void l?.done.then(() => { clearTimeout(t); r(); });
      });
      if (filled()) return 'ready';
    }
  }

  release(file: string): void {
    const l = this.local.get(file);
    if (l === undefined) return;
    this.local.delete(file);
    this.unlinkLock(file);
    l.release();
  }

  private unlinkLock(file: string): void {
    try {
      fs.unlinkSync(`${file}.lock`);
    } catch { /* taken over after lock_age, or swept */ }
  }

  private takeLockFile(file: string, age: number): boolean {
    const lock = `${file}.lock`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.closeSync(fs.openSync(lock, 'wx'));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return true; // no lock can be had: go on unlocked
    }
    try {
      // proxy_cache_lock_age: a filler that has not finished by then lets one more request pass.
      if (Date.now() - fs.statSync(lock).mtimeMs >= age) {
        fs.utimesSync(lock, new Date(), new Date());
        return true;
      }
    } catch { /* released meanwhile: the next round takes it */ }
    return false;
  }
}

/** A new entry being written: header first, then the body as it comes; commit() renames it in. */
export class EntryWriter {
  private fd: number;
  private readonly tmp: string;
  private size = 0;

  /**
   * `variant`: a second name of the entry (a Vary answer's own file), linked to the same file;
   * `replaced`: told each name the commit puts a new file at.
   */
  constructor(readonly file: string, meta: EntryMeta, private readonly variant: string | null = null,
    private readonly replaced: (file: string) => void = () => undefined) {
    this.tmp = `${file}.${process.pid}.${++serial}.tmp`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      this.fd = fs.openSync(this.tmp, 'w');
      fs.writeSync(this.fd, encodeHeader(meta));
    } catch (e) {
      throw ioError('open', this.tmp, e);
    }
  }

  /** Adds body bytes; throws TRESTY_ERR_CACHE_IO (the writer is then aborted). */
  write(c: Buffer): void {
    try {
      fs.writeSync(this.fd, c);
      this.size += c.length;
    } catch (e) {
      this.abort();
      throw ioError('write', this.tmp, e);
    }
  }

  get bytes(): number { return this.size; }

  commit(): void {
    try {
      fs.closeSync(this.fd);
      this.fd = -1;
      if (this.variant !== null) {
        const t2 = `${this.variant}.${process.pid}.${++serial}.tmp`;
        fs.mkdirSync(path.dirname(this.variant), { recursive: true });
        fs.linkSync(this.tmp, t2);
        fs.renameSync(t2, this.variant);
        this.replaced(this.variant);
      }
      fs.renameSync(this.tmp, this.file);
      this.replaced(this.file);
    } catch (e) {
      this.abort();
      throw ioError('rename', this.tmp, e);
    }
  }

  abort(): void {
    if (this.fd >= 0) {
      try { fs.closeSync(this.fd); } catch { /* closed */ }
      this.fd = -1;
    }
    try { fs.unlinkSync(this.tmp); } catch { /* never made */ }
  }
}

function inodeOf(file: string): number {
  try {
    return fs.statSync(file, { throwIfNoEntry: false })?.ino ?? 0;
  } catch {
    return 0;
  }
}

function ioError(what: string, file: string, e: unknown): TrestyError {
  const err = e as NodeJS.ErrnoException;
  return new TrestyError('TRESTY_ERR_CACHE_IO', `${what}() "${file}" failed (${err.errno !== undefined ? -err.errno : 0}: ${err.code ?? String(e)})`);
}
