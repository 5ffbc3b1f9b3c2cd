// nginx's autoindex module: the listing of a folder whose URI ends in `/` and has no index file
// (static.ts calls it where nginx would say "directory index ... is forbidden"), in the
// location's autoindex_format. The bytes are autoindex-format.ts's; this reads the folder.

import fs from 'node:fs';
import path from 'node:path';
import type { LocationConf } from '../config/types.js';
import { OK } from '../request/codes.js';
import { emit } from '../request/output.js';
import { headersOf } from '../request/headers.js';
import { logReq } from '../request/report.js';
import type { Req } from '../request/req.js';
import { type Entry, html, json, jsonp, sortEntries, xml } from './autoindex-format.js';

const CALLBACK_MAX = 128;

/** The raw `callback` argument, as nginx's ngx_http_arg finds it (not unescaped). */
function callbackOf(args: string): string {
  // nginx compares the argument's name without case (`?CallBack=x` works there)
  for (const part of args.split('&')) if (part.slice(0, 9).toLowerCase() === 'callback=') return part.slice(9);
  return '';
}

function stat(file: Buffer, follow: boolean): Promise<fs.Stats> {
  return follow ? fs.promises.stat(file) : fs.promises.lstat(file);
}

/** The folder's entries, dot files left out; a dangling link is described by lstat, as nginx does. */
async function read(r: Req, dir: string): Promise<Entry[] | number> {
  let names: Buffer[];
  try {
    names = await fs.promises.readdir(dir, { encoding: 'buffer' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 404;
    logReq(r, code === 'EACCES' ? 'error' : 'crit', `opendir() "${dir}" failed (${(e as Error).message})`);
    return code === 'EACCES' ? 403 : 500;
  }
  const base = Buffer.from(dir.endsWith('/') ? dir : `${dir}/`);
  const out: Entry[] = [];
  for (const n of names) {
    if (n[0] === 0x2e) continue;
    const file = Buffer.concat([base, n]);
    let st: fs.Stats;
    try {
      st = await stat(file, true);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      try {
        if (code !== 'ENOENT' && code !== 'ELOOP') throw e;
        st = await stat(file, false);
      } catch (e2) {
        logReq(r, 'crit', `stat() "${path.join(dir, n.toString('latin1'))}" failed (${(e2 as Error).message})`);
        if ((e2 as NodeJS.ErrnoException).code === 'EACCES') continue;
        return 500;
      }
    }
    const kind = st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other';
    out.push({ name: n.toString('latin1'), kind, mtimeMs: st.mtimeMs, size: st.size });
  }
  return sortEntries(out);
}

export async function autoindex(r: Req, dir: string, loc: LocationConf): Promise<number> {
  const f = loc.files;
  const format = f.autoindexFormat ?? 'html';
  let callback = '';
  if (format === 'jsonp') {
    callback = callbackOf(r.args);
    if (callback.length > CALLBACK_MAX) {
      logReq(r, 'info', `client sent too long callback name: "${callback}"`);
      return 400;
    }
    if (!/^[A-Za-z0-9_.]*$/.test(callback)) {
      logReq(r, 'info', `client sent invalid callback name: "${callback}"`);
      return 400;
    }
  }
  const list = await read(r, dir);
  if (typeof list === 'number') return list;
  let body: string;
  let type: string;
  if (format === 'html') {
    const uri = Buffer.from(r.uri, 'utf8').toString('latin1');
    body = html(uri, list, { exactSize: !f.autoindexRounded, localtime: f.autoindexLocaltime === true });
    type = 'text/html';
  } else if (format === 'xml') {
    body = xml(list);
    type = 'text/xml; charset=utf-8';
  } else if (callback !== '') {
    body = jsonp(list, callback);
    type = 'application/javascript';
  } else {
    body = json(list);
    type = 'application/json';
  }
  const h = headersOf(r);
  h.set('Content-Type', type);
  r.status = 200;
  // No length, as nginx's (it writes the head before it reads the folder): chunked on HTTP/1.1.
  r.lengthless = true;
  r.headAlone = true;
  r.headerSent = true;
  if (r.method === 'HEAD') return OK;
  emit(r, Buffer.from(body, 'latin1'));
  return OK;
}
