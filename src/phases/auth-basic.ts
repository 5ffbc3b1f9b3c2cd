// nginx's auth_basic: the Authorization header's user and password checked against a htpasswd
// file, read on every request as nginx does (an edit applies at once). No or bad credentials:
// 401 with `WWW-Authenticate: Basic realm="..."`; a missing file: 403; a hash tresty cannot
// compute: 500 (crypt.ts). Lines and levels as nginx's.

import fs from 'node:fs';
import path from 'node:path';
import { evalParts } from '../api/map.js';
import { getVar } from '../api/vars.js';
import type { AuthBasicConf } from '../config/types.js';
import { OK } from '../request/codes.js';
import { headersOf } from '../request/headers.js';
import { logReq } from '../request/report.js';
import type { Req } from '../request/req.js';
import { cryptPassword } from './crypt.js';

/** `Authorization: Basic base64(user:password)` → user and password bytes, or null. */
export function basicCredentials(r: Req): { user: string; password: Buffer } | null {
  const h = r.inHeaders.authorization;
  const v = typeof h === 'string' ? h : h?.[0];
  if (v === undefined || v.length < 6 || v.slice(0, 6).toLowerCase() !== 'basic ') return null;
  const b64 = v.slice(6).trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return null;
  const raw = Buffer.from(b64, 'base64');
  const colon = raw.indexOf(0x3a);
  if (colon < 0) return null;
  return { user: raw.subarray(0, colon).toString('latin1'), password: raw.subarray(colon + 1) };
}

function unauthorized(r: Req, c: AuthBasicConf): number {
  const realm = evalParts(r, c.realm, getVar);
  headersOf(r).set('WWW-Authenticate', `Basic realm="${realm}"`);
  return 401;
}

function check(r: Req, c: AuthBasicConf, file: string, text: string, user: string, password: Buffer): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon) !== user) continue;
    const rest = line.slice(colon + 1).replace(/\r$/, '');
    const end = rest.indexOf(':');
    const stored = end < 0 ? rest : rest.slice(0, end);
    const got = cryptPassword(password, stored);
    if (got === null) {
      const scheme = /^(\$[^$]*\$|\{[^}]*\})/.exec(stored)?.[0] ?? 'DES';
      logReq(r, 'crit', `crypt() failed: the "${scheme}" hash of user "${user}" in "${file}" is a scheme tresty cannot check (TRESTY_ERR_AUTH_SCHEME)`);
      return 500;
    }
    if (got === stored) return OK;
    logReq(r, 'error', `user "${user}": password mismatch`);
    return unauthorized(r, c);
  }
  logReq(r, 'error', `user "${user}" was not found in "${file}"`);
  return unauthorized(r, c);
}

export function authBasic(r: Req, c: AuthBasicConf): number | Promise<number> {
  const creds = basicCredentials(r);
  if (creds === null) {
    logReq(r, 'info', 'no user/password was provided for basic authentication');
    return unauthorized(r, c);
  }
  const file = path.resolve(c.confDir, evalParts(r, c.file, getVar));
  return fs.promises.readFile(file, 'latin1').then(
    (text) => check(r, c, file, text, creds.user, creds.password),
    (e: NodeJS.ErrnoException) => {
      const missing = e.code === 'ENOENT';
      logReq(r, missing ? 'error' : 'crit', `open() "${file}" failed (${e.errno !== undefined ? -e.errno : ''}: ${e.code === 'ENOENT' ? 'No such file or directory' : e.message})`);
      return missing ? 403 : 500;
    },
  );
}
