// Where conf text comes from. The master reads files from disk and records what it read
// (a snapshot); workers resolve the same snapshot, so they run exactly the conf the master
// validated even if the files change on disk in between. Host names the conf looks up at load
// (`resolver NAME`) are recorded too: a worker uses the master's answer, as nginx's fork does.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { lookupHostSync } from './host-lookup.js';

export interface ConfSnapshot {
  files: Record<string, string>;
  globs: Record<string, string[]>;
  /** Host name -> its addresses as the master found them ([] for none). */
  hosts?: Record<string, string[]>;
}

export interface ConfSource {
  /** Throws an Error with an nginx-style `open() "..." failed` message. */
  read(file: string): string;
  /** Files matching a pattern with `*`, `?` or `[...]`, sorted (as nginx does). */
  glob(pattern: string): string[];
  /** A host name's addresses through the system's lookup; [] when it does not resolve. */
  lookup(name: string): string[];
  readonly snapshot: ConfSnapshot;
}

export function hasGlobMagic(p: string): boolean {
  return /[*?[]/.test(p);
}

export function diskSource(): ConfSource {
  const snapshot: ConfSnapshot = { files: {}, globs: {}, hosts: {} };
  return {
    snapshot,
    read(file) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const errno = err.errno !== undefined ? Math.abs(err.errno) : 0;
        throw new Error(`open() "${file}" failed (${errno}: ${describeErrno(err.code)})`);
      }
      snapshot.files[file] = text;
      return text;
    },
    glob(pattern) {
      const found = expandGlob(pattern);
      snapshot.globs[pattern] = found;
      return found;
    },
    lookup(name) {
      const found = snapshot.hosts![name] ?? lookupHostSync(name);
      snapshot.hosts![name] = found;
      return found;
    },
  };
}

export function snapshotSource(snapshot: ConfSnapshot): ConfSource {
  return {
    snapshot,
    read(file) {
      const text = snapshot.files[file];
      if (text === undefined) throw new Error(`open() "${file}" failed (2: No such file or directory)`);
      return text;
    },
    glob(pattern) {
      return snapshot.globs[pattern] ?? [];
    },
    lookup(name) {
      return snapshot.hosts?.[name] ?? [];
    },
  };
}

export function describeErrno(code: string | undefined): string {
  switch (code) {
    case 'ENOENT': return 'No such file or directory';
    case 'EACCES': return 'Permission denied';
    case 'EISDIR': return 'Is a directory';
    default: return code ?? 'unknown error';
  }
}

function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 1);
      if (end < 0) { re += '\\['; continue; }
      let body = seg.slice(i + 1, end);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** A small glob: enough for nginx's `include conf.d/*.conf` and `include sites/*\/site.conf`. */
function expandGlob(pattern: string): string[] {
  const abs = path.resolve(pattern);
  const parts = abs.split('/').filter(Boolean);
  let bases = ['/'];
  for (const part of parts) {
    const next: string[] = [];
    for (const base of bases) {
      if (!hasGlobMagic(part)) {
        next.push(path.join(base, part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      const re = segmentRegex(part);
      for (const name of names) {
        // Hidden files match only a pattern that names the dot, as in a shell.
        if (name.startsWith('.') && !part.startsWith('.')) continue;
        if (re.test(name)) next.push(path.join(base, name));
      }
    }
    bases = next;
  }
  return bases.filter((f) => {
    try { return statSync(f).isFile(); } catch { return false; }
  }).sort();
}
