// nginx's static module as the default content handler: root + URI, the `index` files for a
// URI ending in `/` (an internal redirect, as nginx does), 404/403/301/405 like nginx, HEAD,
// conditional GETs, default_type and a small MIME table. No byte ranges (no Accept-Ranges).

import fs from 'node:fs';
import path from 'node:path';
import type { LocationConf } from '../config/types.js';
import { DONE, ERROR, EXEC, OK } from '../request/codes.js';
import { mimeType } from './mime.js';
import { absoluteUrl, emit, headersOf, queueFlush } from '../request/output.js';
import type { Step } from './phase.js';
import { logReq } from '../request/report.js';
import type { Req } from '../request/req.js';

/** Files up to this size are read in one go and sent with one write. */
const SMALL = 128 * 1024;
/** Larger files are read and sent in pieces of this size. */
const CHUNK = 64 * 1024;

/** `types` are the conf's `types { ... }` (extension -> type); the built-in table fills gaps. */
export function staticStep(loc: LocationConf, prefix: string, types?: ReadonlyMap<string, string>): Step {
  const root = path.resolve(prefix, loc.root);
  const typeOf = (file: string): string | undefined => {
    const dot = file.lastIndexOf('.');
    const conf = types && dot > file.lastIndexOf('/') ? types.get(file.slice(dot + 1).toLowerCase()) : undefined;
    return conf ?? mimeType(file);
  };
  return (r) => serve(r, root, loc, typeOf);
}

async function serve(r: Req, root: string, loc: LocationConf, typeOf: (file: string) => string | undefined): Promise<number> {
  if (r.method !== 'GET' && r.method !== 'HEAD') return 405;
  const file = root + r.uri;
  if (r.uri.endsWith('/')) return index(r, file, loc);
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (e) {
    return openFailed(r, file, e);
  }
  if (st.isDirectory()) {
    headersOf(r).set('Location', absoluteUrl(r, `${r.uri}/${r.args ? `?${r.args}` : ''}`));
    return 301;
  }
  const h = headersOf(r);
  const mtime = new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString();
  const etag = `"${Math.floor(st.mtimeMs / 1000).toString(16)}-${st.size.toString(16)}"`;
  if (!h.has('content-type')) h.set('Content-Type', typeOf(file) ?? loc.defaultType);
  h.set('Last-Modified', mtime);
  h.set('ETag', etag);
  const inH = r.inHeaders;
  if (inH['if-none-match'] === etag || (inH['if-none-match'] === undefined && inH['if-modified-since'] === mtime)) {
    r.status = 304;
    h.delete('content-type');
    r.headerSent = true;
    return DONE;
  }
  r.status = 200;
  h.set('Content-Length', String(st.size));
  r.headerSent = true;
  if (r.method === 'HEAD' || st.size === 0) return OK;
  return send(r, file, st.size);
}

/**
 * The file's `size` bytes, read at explicit offsets. A read that comes back short means the file
 * shrank after its Content-Length went out: the answer cannot be completed, so the connection is
 * closed (the client sees a body shorter than announced, never the next answer inside it) and
 * nginx's [alert] is logged.
 */
async function send(r: Req, file: string, size: number): Promise<number> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (e) {
    logReq(r, 'error', `open() "${file}" failed (${(e as Error).message})`);
    return ERROR;
  }
  try {
    // A small file goes in one read and one write; a larger one in CHUNK pieces, flushed as they go.
    const step = size <= SMALL ? size : CHUNK;
    for (let pos = 0; pos < size;) {
      const want = Math.min(step, size - pos);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead < want) {
        if (bytesRead > 0) emit(r, buf.subarray(0, bytesRead));
        await queueFlush(r, false);
        logReq(r, 'alert', `pread() read only ${bytesRead} of ${want} from "${file}" while sending response to client`);
        return ERROR;
      }
      emit(r, buf);
      pos += want;
      if (pos < size) {
        const p = queueFlush(r, false);
        if (p) await p;
      }
    }
  } catch (e) {
    logReq(r, 'alert', `pread() "${file}" failed (${(e as Error).message}) while sending response to client`);
    return ERROR;
  } finally {
    await fh.close();
  }
  return OK;
}

async function index(r: Req, dir: string, loc: LocationConf): Promise<number> {
  for (const name of loc.index) {
    try {
      const st = await fs.promises.stat(dir + name);
      if (st.isFile()) {
        r.execUri = r.uri + name;
        r.execArgs = r.args;
        return EXEC;
      }
    } catch { /* try the next index file */ }
  }
  try {
    if ((await fs.promises.stat(dir)).isDirectory()) {
      logReq(r, 'error', `directory index of "${dir}" is forbidden`);
      return 403;
    }
  } catch (e) {
    return openFailed(r, dir, e);
  }
  return 404;
}

function openFailed(r: Req, file: string, e: unknown): number {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') {
    logReq(r, 'error', `open() "${file}" failed (13: Permission denied)`);
    return 403;
  }
  if (!r.loc.std.noLogNotFound) logReq(r, 'error', `open() "${file}" failed (2: No such file or directory)`);
  return 404;
}
