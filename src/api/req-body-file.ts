// Request bodies in temp files, as nginx keeps a body past client_body_buffer_size: a file under
// client_body_temp_path named by a 10-digit number (nginx's names), removed when the request ends
// (with client_body_in_file_only on too: OpenResty's read_body removes it). Writes are synchronous, as nginx's are: they go to
// the page cache, and ngx.req.append_body (synchronous in OpenResty too) cannot wait.

import fs from 'node:fs';
import path from 'node:path';
import { TrestyError } from '../errors.js';
import { logReq } from '../request/report.js';
import type { BodyFile, Req } from '../request/req.js';

/** Next file number; seeded by the pid so workers rarely collide (a collision takes the next). */
let serial = (process.pid % 100_000) * 10_000;

function tempDir(r: Req): string {
  return r.loc.proxy.clientBodyTempPath ?? path.join(r.w.conf.prefix, 'client_body_temp');
}

/**
 * Opens a new temp file for `r`'s body; `first` is written to it. Removed at the request's end
 * unless `keep` (nginx's own body reading with client_body_in_file_only on keeps it).
 */
export function openBodyFile(r: Req, first: Uint8Array | null, keep = false): BodyFile {
  const dir = tempDir(r);
  let fd = -1;
  let file = '';
  for (let tries = 0; fd < 0; tries++) {
    file = path.join(dir, String(++serial % 1e10).padStart(10, '0'));
    try {
      fd = fs.openSync(file, 'wx+', 0o600);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && tries === 0) { fs.mkdirSync(dir, { recursive: true }); continue; }
      if (code === 'EEXIST' && tries < 100) continue;
      throw new TrestyError('TRESTY_ERR_BODY_FILE', `open() "${file}" failed (${(e as Error).message})`);
    }
  }
  // nginx says so on the request's line: at notice level when client_body_in_file_only asked
  // for the file, else at warn (observed on nginx 1.22).
  logReq(r, r.loc.proxy.clientBodyInFileOnly === 'off' ? 'warn' : 'notice', `a client request body is buffered to a temporary file ${file}`);
  const bf: BodyFile = { path: file, size: 0, fd };
  // Even with client_body_in_file_only on: lua-nginx-module's read_body removes its file too.
  (r.bodyCleanups ??= []).push(() => {
    closeBodyFile(bf);
    if (!keep) removeBodyFile(file);
  });
  if (first !== null && first.byteLength > 0) appendBodyFile(bf, first);
  return bf;
}

export function appendBodyFile(bf: BodyFile, data: Uint8Array): void {
  if (bf.fd < 0) throw new TrestyError('TRESTY_ERR_BODY_FILE', `the body file "${bf.path}" is closed`);
  try {
    for (let off = 0; off < data.byteLength;) off += fs.writeSync(bf.fd, data, off, data.byteLength - off);
  } catch (e) {
    throw new TrestyError('TRESTY_ERR_BODY_FILE', `write() "${bf.path}" failed (${(e as Error).message})`);
  }
  bf.size += data.byteLength;
}

/** Unlinked at once, as nginx's pool cleanup does: once the request is over the file is gone. */
export function removeBodyFile(file: string): void {
  try { fs.unlinkSync(file); } catch { /* already gone */ }
}

export function closeBodyFile(bf: BodyFile): void {
  if (bf.fd < 0) return;
  const fd = bf.fd;
  bf.fd = -1;
  try { fs.closeSync(fd); } catch { /* already gone */ }
}
