// nginx's dav module (config/directives-dav.ts): PUT, DELETE, MKCOL, COPY and MOVE on the files
// under the location's root, with nginx 1.22's statuses and error-log lines (observed). A PUT's
// body goes to a temp file first and is renamed into place, so a reader never sees half a file.

import fs from 'node:fs';
import path from 'node:path';
import type { LocationConf } from '../config/types.js';
import { bodyOf } from '../request/body-of.js';
import { absoluteUrl } from '../request/absolute-url.js';
import { headersOf } from '../request/headers.js';
import { logReq } from '../request/report.js';
import type { Req } from '../request/req.js';
import type { PathMapper } from './file-path.js';

type Level = 'error' | 'crit';

const DEFAULT_ACCESS = 0o600;
/** nginx's ngx_dir_access: x where r is given. */
const dirAccess = (a: number): number => a | ((a & 0o444) >> 2);

/** nginx's ngx_http_dav_error: the status and level an errno gives. */
function davError(r: Req, e: unknown, notFound: number, what: string): number {
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? '';
  const [level, rc]: [Level, number] = code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' ? ['error', notFound]
    : code === 'EACCES' || code === 'EPERM' ? ['error', 403]
      : code === 'EEXIST' ? ['error', 405]
        : code === 'ENOSPC' ? ['crit', 507] : ['crit', 500];
  logReq(r, level, `${what} failed (${errText(err)})`);
  return rc;
}

function errText(e: NodeJS.ErrnoException): string {
  const text: Record<string, string> = {
    ENOENT: '2: No such file or directory', EEXIST: '17: File exists', EISDIR: '21: Is a directory',
    ENOTDIR: '20: Not a directory', EACCES: '13: Permission denied', ENOTEMPTY: '39: Directory not empty',
  };
  return text[e.code ?? ''] ?? `${e.errno === undefined ? '' : `${-e.errno}: `}${e.message}`;
}

function hasBody(r: Req): boolean {
  const cl = r.inHeaders['content-length'];
  const te = r.inHeaders['transfer-encoding'];
  return (cl !== undefined && Number(cl) > 0) || te !== undefined;
}

function header(r: Req, name: string): string | undefined {
  const v = r.inHeaders[name];
  return typeof v === 'string' ? v : v?.[0];
}

/** The Depth header: 0, 1, or -1 for infinity; `dflt` when absent; null when unreadable. */
function depth(r: Req, dflt: number): number | null {
  const v = header(r, 'depth');
  if (v === undefined) return dflt;
  return v === '0' ? 0 : v === '1' ? 1 : v === 'infinity' ? -1 : null;
}

/** 201, empty and without a type, as nginx's (with the new resource's Location for PUT and MKCOL). */
function created(r: Req, uri: string | null): number {
  const h = headersOf(r);
  if (uri !== null) h.set('Location', absoluteUrl(r, uri));
  h.set('Content-Length', '0');
  h.set('Content-Type', ''); // '' is "no type" (head-list.ts)
  return 201;
}

export async function dav(r: Req, map: PathMapper, loc: LocationConf): Promise<number> {
  switch (r.method) {
    case 'PUT': return put(r, map(r, r.uri), loc);
    case 'DELETE': return del(r, map(r, r.uri), loc);
    case 'MKCOL': return mkcol(r, map(r, r.uri), loc);
    default: return copyMove(r, map, loc);
  }
}

async function put(r: Req, file: string, loc: LocationConf): Promise<number> {
  if (r.uri.endsWith('/')) { logReq(r, 'error', 'cannot PUT to a collection'); return 409; }
  if (header(r, 'content-range') !== undefined) { logReq(r, 'error', 'PUT with range is unsupported'); return 501; }
  const access = loc.files.davAccess ?? DEFAULT_ACCESS;
  const dir = r.loc.proxy.clientBodyTempPath ?? path.join(r.w.conf.prefix, 'client_body_temp');
  await fs.promises.mkdir(dir, { recursive: true });
  const temp = path.join(dir, `dav-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`);
  const fh = await fs.promises.open(temp, 'wx', 0o600);
  try {
    for await (const chunk of bodyOf(r)) await fh.write(chunk);
  } catch (e) {
    await fh.close();
    await fs.promises.rm(temp, { force: true });
    throw e;
  }
  await fh.close();
  let status = 201;
  try {
    const st = await fs.promises.stat(file);
    if (st.isDirectory()) {
      await fs.promises.rm(temp, { force: true });
      logReq(r, 'error', `"${file}" could not be created (21: Is a directory)`);
      return 409;
    }
    status = 204;
  } catch { /* a new file */ }
  await fs.promises.chmod(temp, access);
  const date = header(r, 'date');
  const t = date === undefined ? NaN : Date.parse(date);
  if (!Number.isNaN(t)) await fs.promises.utimes(temp, t / 1000, t / 1000);
  try {
    await moveFile(temp, file, loc.files.davFullPutPath === true ? dirAccess(access) : null);
  } catch (e) {
    await fs.promises.rm(temp, { force: true });
    logReq(r, 'crit', `rename() "${temp}" to "${file}" failed (${errText(e as NodeJS.ErrnoException)})`);
    return 500;
  }
  return status === 201 ? created(r, r.uri) : 204;
}

/** rename, across file systems too; `mkdirMode`: make the missing folders first (with that mode). */
async function moveFile(from: string, to: string, mkdirMode: number | null): Promise<void> {
  try {
    await fs.promises.rename(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && mkdirMode !== null) {
      await fs.promises.mkdir(path.dirname(to), { recursive: true, mode: mkdirMode });
      return moveFile(from, to, null);
    }
    if (code !== 'EXDEV') throw e;
    await fs.promises.cp(from, to, { recursive: true, preserveTimestamps: true });
    await fs.promises.rm(from, { recursive: true, force: true });
  }
}

async function del(r: Req, file: string, loc: LocationConf): Promise<number> {
  if (hasBody(r)) { logReq(r, 'error', 'DELETE with body is unsupported'); return 415; }
  const min = loc.files.minDeleteDepth ?? 0;
  if (min > 0) {
    const d = r.uri.split('/').length - 1;
    if (d < min) { logReq(r, 'error', `insufficient URI depth:${d} to DELETE`); return 409; }
  }
  let st: fs.Stats;
  try {
    st = await fs.promises.lstat(file);
  } catch (e) {
    return davError(r, e, 404, `lstat() "${file}"`);
  }
  if (st.isDirectory()) {
    if (!r.uri.endsWith('/')) { logReq(r, 'error', `DELETE "${file}" failed (21: Is a directory)`); return 409; }
    if (depth(r, -1) !== -1) { logReq(r, 'error', '"Depth" header must be infinity'); return 400; }
  } else {
    const dp = depth(r, 0);
    if (dp !== 0 && dp !== -1) { logReq(r, 'error', '"Depth" header must be 0 or infinity'); return 400; }
  }
  try {
    await fs.promises.rm(st.isDirectory() ? file.replace(/\/$/, '') : file, { recursive: true });
  } catch (e) {
    return davError(r, e, 404, `delete "${file}"`);
  }
  return 204;
}

async function mkcol(r: Req, file: string, loc: LocationConf): Promise<number> {
  if (hasBody(r)) { logReq(r, 'error', 'MKCOL with body is unsupported'); return 415; }
  if (!r.uri.endsWith('/')) { logReq(r, 'error', 'MKCOL can create a collection only'); return 409; }
  const dir = file.replace(/\/$/, '');
  try {
    await fs.promises.mkdir(dir, { mode: dirAccess(loc.files.davAccess ?? DEFAULT_ACCESS) });
  } catch (e) {
    return davError(r, e, 409, `mkdir() "${dir}"`);
  }
  return created(r, r.uri);
}

/** The Destination's URI, or a status after nginx's log line. */
function destination(r: Req): string | number {
  const dest = header(r, 'destination');
  if (dest === undefined) { logReq(r, 'error', 'client sent no "Destination" header'); return 400; }
  if (dest.startsWith('/')) return dest;
  const scheme = r.ex.tlsInfo?.() ? 'https://' : 'http://';
  const host = header(r, 'host') ?? '';
  const invalid = (): number => { logReq(r, 'error', `client sent invalid "Destination" header: "${dest}"`); return 400; };
  if (!dest.startsWith(scheme)) return invalid();
  const rest = dest.slice(scheme.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return invalid();
  if (rest.slice(0, slash) !== host) {
    logReq(r, 'error', `"Destination" URI "${dest}" is handled by different repository than the source URI`);
    return 400;
  }
  return rest.slice(slash);
}

async function copyMove(r: Req, map: PathMapper, loc: LocationConf): Promise<number> {
  if (hasBody(r)) { logReq(r, 'error', 'COPY and MOVE with body are unsupported'); return 415; }
  const destUri = destination(r);
  if (typeof destUri === 'number') return destUri;
  if (r.uri.endsWith('/') !== destUri.endsWith('/')) {
    logReq(r, 'error', `both URI "${r.uri}" and "Destination" URI "${header(r, 'destination')}" should be either collections or non-collections`);
    return 409;
  }
  const move = r.method === 'MOVE';
  const dp = depth(r, -1);
  if (move ? dp !== -1 : dp !== 0 && dp !== -1) {
    logReq(r, 'error', move ? '"Depth" header must be infinity' : '"Depth" header must be 0 or infinity');
    return 400;
  }
  const over = header(r, 'overwrite');
  if (over !== undefined && !/^[TtFf]$/.test(over)) { logReq(r, 'error', `client sent invalid "Overwrite" header: "${over}"`); return 400; }
  const overwrite = over === undefined || over === 'T' || over === 't';
  const src = map(r, r.uri).replace(/\/$/, '');
  const dst = map(r, decodeURIComponent(destUri)).replace(/\/$/, '');
  let srcSt: fs.Stats;
  try {
    srcSt = await fs.promises.lstat(src);
  } catch (e) {
    return davError(r, e, 404, `lstat() "${src}"`);
  }
  const exists = await fs.promises.lstat(dst).then(() => true, () => false);
  if (exists) {
    if (!overwrite) { logReq(r, 'error', `"${dst}" could not be created (17: File exists)`); return 412; }
    await fs.promises.rm(dst, { recursive: true, force: true });
  }
  const access = dirAccess(loc.files.davAccess ?? DEFAULT_ACCESS);
  try {
    if (move) await moveFile(src, dst, access);
    else if (srcSt.isDirectory() && dp === 0) await fs.promises.mkdir(dst, { mode: srcSt.mode & 0o7777 });
    else await fs.promises.cp(src, dst, { recursive: true, preserveTimestamps: true, errorOnExist: false });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    logReq(r, 'crit', `open() "${dst}" failed (${errText(err)})`);
    return 500;
  }
  return srcSt.isDirectory() ? created(r, null) : 204;
}
