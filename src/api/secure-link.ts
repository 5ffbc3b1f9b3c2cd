// $secure_link and $secure_link_expires (nginx's secure_link module). MD5 mode: secure_link's
// value is `HASH[,EXPIRES]`, HASH the base64url MD5 of secure_link_md5's value: '1' when it
// matches, '0' when it matches but EXPIRES (seconds since the epoch) has passed, no value
// otherwise. Secret mode: the URI is `/PREFIX/HEX-MD5/LINK`, and $secure_link is LINK (with its
// query string) when the MD5 of LINK followed by the secret is HEX-MD5.

import { createHash } from 'node:crypto';
import type { SecureLinkConf, TemplateParts } from '../config/types.js';
import type { Req } from '../request/req.js';
import { bytesOf } from '../request/bytes.js';
import { evalParts } from './map.js';

type Get = (r: Req, name: string) => string | undefined;

const md5 = (b: Buffer): Buffer => createHash('md5').update(b).digest();

/** nginx's ngx_atotm: digits only, not empty, no overflow; else -1. */
function atotm(s: string): number {
  if (s === '' || !/^\d+$/.test(s)) return -1;
  const n = Number(s);
  return n > Number.MAX_SAFE_INTEGER ? -1 : n;
}

/** nginx's ngx_decode_base64url: up to the first `=`, url alphabet only, not 1 mod 4 long. */
function base64url(s: string): Buffer | null {
  const eq = s.indexOf('=');
  const body = eq < 0 ? s : s.slice(0, eq);
  if (!/^[A-Za-z0-9_-]*$/.test(body) || body.length % 4 === 1) return null;
  return Buffer.from(body, 'base64url');
}

function md5Mode(r: Req, variable: TemplateParts | null, md5Of: TemplateParts | null, get: Get): string | undefined {
  if (variable === null || md5Of === null) return undefined;
  let val = evalParts(r, variable, get);
  let expires = 0;
  const comma = val.indexOf(',');
  if (comma >= 0) {
    const text = val.slice(comma + 1);
    expires = atotm(text);
    if (expires <= 0) return undefined;
    // nginx keeps the text for $secure_link_expires before it checks the hash.
    (r.vars ??= Object.create(null) as Record<string, string>).secure_link_expires = text;
    val = val.slice(0, comma);
  }
  if (val.length > 24) return undefined;
  const hash = base64url(val);
  if (hash === null || hash.length !== 16) return undefined;
  if (!md5(bytesOf(evalParts(r, md5Of, get))).equals(hash)) return undefined;
  return expires !== 0 && expires < Math.floor(Date.now() / 1000) ? '0' : '1';
}

function secretMode(uri: string, secret: string): string | undefined {
  // `/PREFIX/HASH/LINK`: the hash sits between the first two slashes after the leading one.
  const a = uri.indexOf('/', 1);
  if (a < 0) return undefined;
  const b = uri.indexOf('/', a + 1);
  if (b < 0) return undefined;
  const hex = uri.slice(a + 1, b);
  const link = uri.slice(b + 1);
  if (hex.length !== 32 || link === '' || !/^[0-9a-fA-F]{32}$/.test(hex)) return undefined;
  const want = md5(Buffer.concat([bytesOf(link), bytesOf(secret)]));
  return want.equals(Buffer.from(hex, 'hex')) ? link : undefined;
}

export function secureLink(r: Req, c: SecureLinkConf | null, get: Get): string | undefined {
  if (c === null) return undefined;
  if (c.mode === 'secret') return secretMode(get(r, 'request_uri') ?? '', c.secret);
  return md5Mode(r, c.variable, c.md5, get);
}
