// Replacing the request body, as lua-nginx-module does: ngx.req.init_body / append_body /
// finish_body build a new body piece by piece (in memory up to init_body's size, else in a temp
// file), set_body_data / set_body_file swap it whole. Texts of the errors are nginx's (observed
// on nginx 1.22 + lua-nginx-module 0.10.23). What a handler sees afterwards (get_body_data,
// get_body_file, Content-Length, proxy_pass, subrequests) reads Req.body / Req.bodyFile.

import fs from 'node:fs';
import { TrestyError } from '../errors.js';
import type { BodyBuild, Req } from '../request/req.js';
import { setInHeader } from '../request/in-headers.js';
import { appendBodyFile, closeBodyFile, openBodyFile, removeBodyFile } from './req-body-file.js';

/** Memory first taken for a built body; it doubles up to the build's limit. */
const FIRST_BUF = 4096;

function notRead(r: Req): void {
  if (r.body === undefined) throw new TrestyError('TRESTY_ERR_API_ARGS', 'request body not read yet');
}

/** The body that was there goes (its file stays until the request's end: a capture may use it). */
function dropBody(r: Req): void {
  if (r.bodyBuild?.file) closeBodyFile(r.bodyBuild.file);
  r.bodyBuild = null;
  r.bodyFile = null;
  r.body = null;
}

/** Content-Length as handlers and the proxy see it (nginx rewrites the request's header). */
function setLength(r: Req, n: number): void {
  setInHeader(r, 'Content-Length', [String(n)]);
}

/** A body piece as bytes: a string or number as UTF-8, bytes as a view (no copy). */
function bodyBytes(fn: string, data: unknown): Buffer {
  if (typeof data === 'string' || typeof data === 'number') return Buffer.from(String(data));
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TrestyError('TRESTY_ERR_API_ARGS', `bad argument #1 to '${fn}' (string expected, got ${data === null ? 'null' : typeof data})`);
}

export function initBody(r: Req, size: unknown): void {
  notRead(r);
  let limit = r.loc.proxy.clientBodyBufferSize;
  if (size !== undefined && size !== null) {
    const n = Number(size);
    if (!Number.isInteger(n) || n < 0) throw new TrestyError('TRESTY_ERR_API_ARGS', `bad size argument: ${String(size)}`);
    limit = n;
  }
  // lua-nginx-module sets request_body_in_file_only for init_body(0) and never clears it
  if (limit === 0) r.bodyInFileOnly = true;
  else if (r.bodyInFileOnly) limit = 0;
  dropBody(r);
  r.bodyBuild = { buf: Buffer.allocUnsafe(Math.min(limit, FIRST_BUF)), size: 0, limit, file: null, sealed: false };
}

function built(r: Req): BodyBuild {
  const b = r.bodyBuild;
  if (b === null) throw new TrestyError('TRESTY_ERR_API_ARGS', 'request_body not initialized');
  return b;
}

export function appendBody(r: Req, data: unknown): void {
  const b = built(r);
  const bytes = bodyBytes('append_body', data);
  const n = bytes.byteLength;
  // nginx 1.22 + lua-nginx-module: after finish_body saved a body that is in a file, appends
  // reach neither the file nor get_body_data (no error); init_body starts over.
  if (n === 0 || b.sealed) return;
  if (b.file === null && b.size + n <= b.limit) {
    if (b.size + n > b.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(b.limit, Math.max(b.buf.length * 2, b.size + n)));
      b.buf.copy(grown, 0, 0, b.size);
      b.buf = grown;
    }
    b.buf.set(bytes, b.size);
    b.size += n;
    // A view: what a capture or the proxy took earlier keeps its own length.
    r.body = b.buf.subarray(0, b.size);
    return;
  }
  if (b.file === null) {
    b.file = openBodyFile(r, b.buf.subarray(0, b.size));
    b.buf = Buffer.alloc(0);
    r.body = null;
    r.bodyFile = b.file;
  }
  appendBodyFile(b.file, bytes);
  b.size += n;
}

export function finishBody(r: Req): void {
  const b = built(r);
  if (b.size === 0) r.body = null;
  if (b.file !== null) b.sealed = true;
  setLength(r, b.size);
}

export function setBodyData(r: Req, data: unknown): void {
  notRead(r);
  const bytes = bodyBytes('set_body_data', data);
  dropBody(r);
  r.body = bytes.length === 0 ? null : bytes;
  setLength(r, bytes.length);
}

export function setBodyFile(r: Req, file: unknown, autoClean: unknown): void {
  notRead(r);
  if (typeof file !== 'string' || file === '') throw new TrestyError('TRESTY_ERR_API_ARGS', `bad argument #1 to 'set_body_file' (string expected, got ${file === null ? 'null' : typeof file})`);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new TrestyError('TRESTY_ERR_BODY_FILE', `stat() "${file}" failed`);
  }
  dropBody(r);
  r.bodyFile = { path: file, size: st.size, fd: -1 };
  if (autoClean === true) (r.bodyCleanups ??= []).push(() => removeBodyFile(file));
  setLength(r, st.size);
}

/** The body as ngx.req.get_body_data gives it: null when none, empty, or in a file. */
export function bodyText(r: Req): string | null {
  return r.body && r.body.length > 0 ? r.body.toString('utf8') : null;
}
