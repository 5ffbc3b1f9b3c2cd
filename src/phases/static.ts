// nginx's static module as the default content handler: root + URI (or alias), the `index` files
// for a URI ending in `/` (an internal redirect, as nginx does), 404/403/301/405 like nginx, HEAD,
// conditional GETs (412/304) and byte ranges (206, multipart for several, 416) as nginx's filters
// (static-cond.ts), `etag`, `if_modified_since`, default_type and a small MIME table.

import fs from 'node:fs';
import type { GzipStaticConf, LocationConf } from '../config/types.js';
import { DECLINED, DONE, ERROR, EXEC, OK } from '../request/codes.js';
import { EARLIER_ETAG, EARLIER_RANGES, LISTED_LAST_MODIFIED, headersOf } from '../request/headers.js';
import { mimeType } from './mime.js';
import { autoindex } from './autoindex.js';
import { dav } from './dav.js';
import { emit, emitWhole, queueFlush } from '../request/output.js';
import { absoluteUrl } from '../request/absolute-url.js';
import { failedPrecondition } from '../request/special.js';
import type { Step } from './phase.js';
import { type PathMapper, pathMapper } from './file-path.js';
import { multipart, rangesOf } from '../request/ranges.js';
import { preconditions, type Validators } from '../request/not-modified.js';
import { gzipAccepted, gzipWould } from '../request/gzip.js';
import { logReq } from '../request/report.js';
import type { Req } from '../request/req.js';

/** What nginx's static module sets outside its header list, before Connection (head-order.ts). */
const OWN_FIELDS = ['content-length', 'last-modified'];
const OWN_LENGTH = ['content-length'];
/** Files up to this size are read in one go and sent with one write. */
const SMALL = 128 * 1024;
/** Larger files are read and sent in pieces of this size. */
const CHUNK = 64 * 1024;
/** The pieces body_filter sees: nginx's default output_buffers size. */
const FILTERED_CHUNK = 32 * 1024;

/** `types` are the conf's `types { ... }` (extension -> type); the built-in table fills gaps. */
export function staticStep(loc: LocationConf, prefix: string, types?: ReadonlyMap<string, string>): Step {
  const map = pathMapper(loc, prefix);
  const typeOf = (file: string): string | undefined => {
    const dot = file.lastIndexOf('.');
    const conf = types && dot > file.lastIndexOf('/') ? types.get(file.slice(dot + 1).toLowerCase()) : undefined;
    return conf ?? mimeType(file);
  };
  return (r) => serve(r, map, loc, typeOf);
}

async function serve(r: Req, map: PathMapper, loc: LocationConf, typeOf: (file: string) => string | undefined): Promise<number> {
  // nginx's: a POST looks the file up as a GET does (404, 403, the 301 and the index redirect
  // first) and is refused only on a file it found; other methods are refused at once.
  const post = r.method === 'POST';
  if (loc.files.davMethods?.includes(r.method)) return dav(r, map, loc);
  if (r.method !== 'GET' && r.method !== 'HEAD' && !post) return 405;
  const file = map(r, r.uri);
  if (r.uri.endsWith('/')) return index(r, file, loc);
  const gz = loc.gzip.static === undefined || post ? null : await gzipStatic(r, loc.gzip.static, file);
  let st: fs.Stats;
  try {
    st = gz ?? await fs.promises.stat(file);
  } catch (e) {
    return openFailed(r, file, e);
  }
  if (st.isDirectory()) {
    const h = headersOf(r);
    h.set('Location', absoluteUrl(r, `${r.uri}/${r.args ? `?${r.args}` : ''}`));
    h.ahead(['location']);
    return 301;
  }
  if (post) return 405;
  const h = headersOf(r);
  // Fields an earlier phase set (access_by): only then must the module's own be moved ahead.
  const earlier = h.size > 0;
  const sec = Math.floor(st.mtimeMs / 1000);
  const v: Validators = { mtime: sec, etag: loc.files.noEtag ? null : `"${sec.toString(16)}-${st.size.toString(16)}"` };
  // nginx's not-modified and range filters leave subrequests alone.
  const main = r.parent === null;
  const pre = main ? preconditions(r, v, loc.files.ims ?? 'exact') : 0;
  if (pre === 412) {
    // nginx's not-modified filter answers it from a clean head (output.ts's conditional), and
    // the connection closes after it
    h.clear();
    failedPrecondition(r);
    return 412;
  }
  if (earlier) {
    // An ETag or Accept-Ranges access_by set stays a line of the list, as set; the file's own come
    // after it, and the conditional and range logic use those (observed on nginx 1.22 + lua).
    if (v.etag !== null) h.rekey('etag', EARLIER_ETAG);
    h.rekey('accept-ranges', EARLIER_RANGES);
  }
  if (!h.has('content-type')) h.set('Content-Type', typeOf(file) ?? loc.defaultType);
  // nginx's own length: its place before Last-Modified is kept when it is set below (head-order.ts)
  h.set('Content-Length', String(st.size));
  // A Last-Modified a handler set before (access_by) stays as set, a line of nginx's list
  // (lua-nginx-module's; nginx then writes no own one)
  const handlerTime = (h.listed & LISTED_LAST_MODIFIED) !== 0;
  if (!handlerTime) h.set('Last-Modified', new Date(sec * 1000).toUTCString());
  if (v.etag !== null) h.set('ETag', v.etag);
  if (earlier) h.ahead(handlerTime ? OWN_LENGTH : OWN_FIELDS);
  if (pre === 304) {
    r.status = 304;
    // nginx's not-modified filter clears the Accept-Ranges set (the handler's), not an ETag.
    h.delete(EARLIER_RANGES);
    h.delete('content-type');
    h.delete('content-length');
    r.headerSent = true;
    return DONE;
  }
  // Not on a 304: nginx 1.22's 304 for a gzip_static file carries Vary but no Content-Encoding.
  if (gz !== null) h.set('Content-Encoding', 'gzip');
  // A file that goes out gzipped goes whole: nginx's range filter runs after gzip dropped the length.
  // FILE.gz of gzip_static goes whole too, without Accept-Ranges (observed on nginx 1.22).
  // max_ranges 0: no ranges at all, nor their announcement (nginx's range filter steps aside).
  const maxRanges = loc.files.maxRanges ?? Infinity;
  const ranges = main && gz === null && maxRanges > 0 && !gzipWould(r, loc.gzip.filter, h, st.size) ? rangesOf(r, st.size, v, maxRanges) : null;
  if (ranges === 416) {
    h.delete('last-modified');
    h.delete('etag');
    h.delete(EARLIER_RANGES);
    h.set('Content-Range', `bytes */${st.size}`);
    r.headersStatus = 200;
    return 416;
  }
  r.headerSent = true;
  const head = r.method === 'HEAD';
  if (ranges === null) {
    r.status = 200;
    h.set('Content-Length', String(st.size));
    // (nginx's range filter leaves a subrequest alone: no Accept-Ranges in its capture; nor with max_ranges 0)
    if (gz === null && main && maxRanges > 0) h.set('Accept-Ranges', 'bytes');
    if (head || st.size === 0) return OK;
    return send(r, gz !== null ? `${file}.gz` : file, 0, st.size);
  }
  r.status = 206;
  if (ranges.length === 1) {
    const [start, end] = ranges[0];
    h.set('Content-Range', `bytes ${start}-${end - 1}/${st.size}`);
    h.set('Content-Length', String(end - start));
    return head ? OK : send(r, gz !== null ? `${file}.gz` : file, start, end);
  }
  const type = h.get('content-type');
  const mp = multipart(ranges, st.size, Array.isArray(type) ? type[0] : type);
  h.set('Content-Type', mp.type);
  h.set('Content-Length', String(mp.length));
  if (head) return OK;
  for (let k = 0; k < ranges.length; k++) {
    emit(r, mp.heads[k]);
    const rc = await send(r, gz !== null ? `${file}.gz` : file, ranges[k][0], ranges[k][1], false);
    if (rc !== OK) return rc;
  }
  emit(r, mp.tail);
  return OK;
}

/**
 * The file's bytes [from, to), read at explicit offsets. A read that comes back short means the file
 * shrank after its Content-Length went out: the answer cannot be completed, so the connection is
 * closed (the client sees a body shorter than announced, never the next answer inside it) and
 * nginx's [alert] is logged. `last`: the piece that ends the file ends the body, and goes through
 * body_filter with eof (nginx's copy filter reads the file for lua's filter, its last buffer
 * with last_buf): not for a part of a multipart answer.
 */
async function send(r: Req, file: string, from: number, to: number, last = true): Promise<number> {
  const size = to - from;
  r.ex.fileAnswer?.();
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (e) {
    logReq(r, 'error', `open() "${file}" failed (${(e as Error).message})`);
    return ERROR;
  }
  try {
    // A small file goes in one read and one write; a larger one in CHUNK pieces, flushed as they go.
    // body_filter sees nginx's pieces: the copy filter reads the file into its output buffer (32k
    // by default) for lua's filter, one call each.
    const step = r.pipe.bodyFilter !== null ? FILTERED_CHUNK : size <= SMALL ? size : CHUNK;
    for (let pos = 0; pos < size;) {
      const want = Math.min(step, size - pos);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, from + pos);
      if (bytesRead < want) {
        if (bytesRead > 0) emit(r, buf.subarray(0, bytesRead));
        await queueFlush(r, false);
        logReq(r, 'alert', `pread() read only ${bytesRead} of ${want} from "${file}" while sending response to client`);
        return ERROR;
      }
      pos += want;
      if (last && pos === size) emitWhole(r, buf);
      else emit(r, buf);
      if (pos < size) {
        const p = queueFlush(r, false);
        if (p) await p;
      }
      // A body filter that failed ends the file there (nginx's static handler gets the error
      // back and finalizes: no more pieces, no eof call); not for content handlers' output.
      if (r.filterBroke) return ERROR;
    }
  } catch (e) {
    logReq(r, 'alert', `pread() "${file}" failed (${(e as Error).message}) while sending response to client`);
    return ERROR;
  } finally {
    await fh.close();
  }
  return OK;
}

/**
 * gzip_static: FILE.gz, when it exists and the client takes gzip (`on`) or always, is served in
 * FILE's place with Content-Encoding: gzip (its own length, time and ETag; FILE's type). With
 * gzip_vary, `on` says Vary whenever FILE.gz exists. Returns the .gz file's stats, or null.
 */
async function gzipStatic(r: Req, gs: GzipStaticConf, file: string): Promise<fs.Stats | null> {
  const ok = gs.mode === 'always' || gzipAccepted(r, gs.rules, headersOf(r));
  if (!ok && !gs.rules.vary) return null;
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(`${file}.gz`);
  } catch {
    return null;
  }
  // Vary once FILE.gz is there, even as a directory (observed on nginx 1.22); the gzip filter
  // then says it no more (nginx's one r->gzip_vary).
  if (gs.mode === 'on' && gs.rules.vary) r.gzipVary = true;
  return ok && st.isFile() ? st : null;
}

async function index(r: Req, dir: string, loc: LocationConf): Promise<number> {
  if (loc.files.randomIndex) {
    const rc = await randomIndex(r, dir);
    if (rc !== DECLINED) return rc;
  }
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
      if (loc.files.autoindex) return autoindex(r, dir, loc);
      logReq(r, 'error', `directory index of "${dir}" is forbidden`);
      return 403;
    }
  } catch (e) {
    return openFailed(r, dir, e);
  }
  return 404;
}

/**
 * nginx's random_index, before index and autoindex: a file of the folder picked at random (not a
 * dot file; a link to a file counts), as an internal redirect with the request's args. A folder
 * with no file declines to index; one that cannot be opened is nginx's 404 / 403 / 500.
 */
async function randomIndex(r: Req, dir: string): Promise<number> {
  const path = dir.slice(0, -1);
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(path, { withFileTypes: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const code = err.code;
    const [level, rc, what] = code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG'
      ? ['error', 404, code === 'ENOENT' ? '2: No such file or directory' : code === 'ENOTDIR' ? '20: Not a directory' : '36: File name too long'] as const
      : code === 'EACCES' ? ['error', 403, '13: Permission denied'] as const
        : ['crit', 500, `${err.errno === undefined ? '' : `${-err.errno}: `}${err.message}`] as const;
    logReq(r, level, `opendir() "${path}" failed (${what})`);
    return rc;
  }
  const files: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isFile()) { files.push(e.name); continue; }
    if (!e.isSymbolicLink()) continue;
    try {
      if ((await fs.promises.stat(`${path}/${e.name}`)).isFile()) files.push(e.name);
    } catch { /* a dangling link is no file */ }
  }
  if (files.length === 0) return DECLINED;
  r.execUri = r.uri + files[Math.floor(Math.random() * files.length)]!;
  r.execArgs = r.args;
  return EXEC;
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
