// One cache entry on disk, nginx-like: the file is named by the md5 of the key, under `levels`
// subfolders taken from the end of that name; it holds a small header (what the answer was and
// until when it is fresh) and then the answer's body. A writer fills a temp file beside it and
// renames it in place, so a reader (any worker) sees a whole entry or none.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const MAGIC = 0x31435254; // "TRC1"
/** Entries up to this size are read whole at once; a bigger one's rest streams. */
const WHOLE_MAX = 1024 * 1024;
/** The first read of a bigger entry, and the chunk size of its rest. */
const FIRST_READ = 64 * 1024;

export interface EntryMeta {
  readonly key: string;
  readonly status: number;
  /** The answer's header names and values, as the upstream sent them (less hop-by-hop ones). */
  readonly headers: readonly string[];
  /** Epoch ms until which the entry is fresh. */
  valid: number;
  /** Epoch ms the answer was stored. */
  readonly date: number;
  readonly lastModified: string | null;
  readonly etag: string | null;
  /** Vary's request header names, lower-cased, and their values when stored. */
  readonly vary: readonly string[];
  readonly varyValues: readonly string[];
}

export interface Entry {
  readonly meta: EntryMeta;
  readonly path: string;
  readonly bodySize: number;
  /** The body's first bytes (all of it when `bodySize` is that long). */
  readonly head: Buffer;
  /** Where the body starts in the file. */
  readonly bodyAt: number;
  /** File's access time (ms), for the sweeper's `inactive`. */
  readonly atime: number;
  readonly mtime: number;
  /** The file's inode: the rest of a big body is read only from this very file. */
  readonly ino: number;
}

export function hashOf(key: string): string {
  return crypto.createHash('md5').update(key).digest('hex');
}

/** `dir/c/29/b7f...029c` for levels [1, 2]: the subfolders are the hash's last digits. */
export function entryPath(dir: string, levels: readonly number[], hash: string): string {
  const parts = [dir];
  let end = hash.length;
  for (const n of levels) {
    parts.push(hash.slice(end - n, end));
    end -= n;
  }
  parts.push(hash);
  return path.join(...parts);
}

export function encodeHeader(meta: EntryMeta): Buffer {
  const json = Buffer.from(JSON.stringify(meta), 'utf8');
  const h = Buffer.alloc(8);
  h.writeUInt32LE(MAGIC, 0);
  h.writeUInt32LE(json.length, 4);
  return Buffer.concat([h, json]);
}

/**
 * The entry at `file`, or null when there is none (or it is not one of ours). Read with blocking
 * calls, as nginx reads its cache: a small file in the page cache costs less than a thread pool
 * round trip per call.
 */
export function readEntry(file: string): Entry | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const st = fs.fstatSync(fd);
    const buf = Buffer.allocUnsafe(st.size <= WHOLE_MAX ? st.size : FIRST_READ);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    if (n < 8 || buf.readUInt32LE(0) !== MAGIC) return null;
    const len = buf.readUInt32LE(4);
    let json: Buffer;
    if (8 + len <= n) json = buf.subarray(8, 8 + len);
    else {
      json = Buffer.allocUnsafe(len);
      if (fs.readSync(fd, json, 0, len, 8) !== len) return null;
    }
    const meta = JSON.parse(json.toString('utf8')) as EntryMeta;
    const bodyAt = 8 + len;
    return {
      meta, path: file, bodySize: st.size - bodyAt, bodyAt, atime: st.atimeMs, mtime: st.mtimeMs, ino: st.ino,
      head: bodyAt < n ? buf.subarray(bodyAt, n) : Buffer.alloc(0),
    };
  } catch {
    return null; // a torn or foreign file counts as no entry
  } finally {
    fs.closeSync(fd);
  }
}

/** The rest of a big entry's body, past `head`, in chunks. */
export async function* restOf(e: Entry): AsyncGenerator<Buffer> {
  const fh = await fs.promises.open(e.path, 'r');
  try {
    // Replaced by a newer entry since the lookup: its bytes are another answer's.
    if ((await fh.stat()).ino !== e.ino) throw new Error('the entry was replaced');
    let pos = e.bodyAt + e.head.length;
    const end = e.bodyAt + e.bodySize;
    while (pos < end) {
      const b = Buffer.allocUnsafe(Math.min(FIRST_READ, end - pos));
      const { bytesRead } = await fh.read(b, 0, b.length, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      yield b.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** Rewrites the header of an entry in place by a new file (a revalidation's new validity). */
export function refreshEntry(e: Entry, meta: EntryMeta, tmp: string): void {
  const out = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(out, encodeHeader(meta));
    const inp = fs.openSync(e.path, 'r');
    try {
      const b = Buffer.allocUnsafe(FIRST_READ);
      for (let pos = e.bodyAt; ;) {
        const n = fs.readSync(inp, b, 0, b.length, pos);
        if (n === 0) break;
        fs.writeSync(out, b, 0, n);
        pos += n;
      }
    } finally {
      fs.closeSync(inp);
    }
  } finally {
    fs.closeSync(out);
  }
  fs.renameSync(tmp, e.path);
}
