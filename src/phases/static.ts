// nginx's static module as the default content handler: root + URI, the `index` files for a
// URI ending in `/` (an internal redirect, as nginx does), 404/403/301/405 like nginx, HEAD,
// conditional GETs, default_type and a small MIME table. No byte ranges (no Accept-Ranges).

import fs from 'node:fs';
import path from 'node:path';
import type { LocationConf } from '../config/types.js';
import { DONE, EXEC, OK } from '../request/codes.js';
import { mimeType } from './mime.js';
import { absoluteUrl, emit, fail, headersOf, queueFlush } from '../request/output.js';
import type { Step } from './phase.js';
import { logReq } from '../request/report.js';
import type { Req } from '../request/req.js';

/** Files up to this size are read in one go and sent with one write. */
const SMALL = 128 * 1024;

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
  try {
    if (st.size <= SMALL) {
      const data = await fs.promises.readFile(file);
      if (data.length < st.size) {
        logReq(r, 'alert', `pread() read only ${data.length} of ${st.size} from "${file}" while sending response to client`);
        fail(r, null);
        return OK;
      }
      emit(r, data.length > st.size ? data.subarray(0, st.size) : data);
      return OK;
    }
    // The Content-Length promised the size at stat(): never more (a file that grew), and a file
    // that shrank cuts the connection with nginx's alert (the client must see a short body, not
    // take the next answer for the rest of this one).
    let read = 0;
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 64 * 1024, end: st.size - 1 })) {
      read += (chunk as Buffer).length;
      emit(r, chunk as Buffer);
      const p = queueFlush(r, false);
      if (p) await p;
    }
    if (read < st.size) {
      logReq(r, 'alert', `pread() read only ${read} of ${st.size} from "${file}" while sending response to client`);
      fail(r, null);
    }
  } catch (e) {
    logReq(r, 'error', `read() "${file}" failed (${(e as Error).message})`);
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
  logReq(r, 'error', `open() "${file}" failed (2: No such file or directory)`);
  return 404;
}
