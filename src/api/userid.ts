// nginx's userid module at run time: the client's uid cookie read ($uid_got), a new one made when
// there is none or $uid_reset asks ($uid_set), and sent as a Set-Cookie (with P3P) by a header
// filter on the main request, after add_header, as nginx 1.22 orders them.
//
// The uid is 16 bytes. v2 (`userid on`): four big-endian words, the service (by default the
// server's own IPv4 address), the time, a per-worker start value and a per-worker sequence that
// grows by 0x100; v1 writes them little-endian. $uid_got / $uid_set print each word as nginx
// does, as the host-order (little-endian) number the bytes make.

import type { Req } from '../request/req.js';
import { logReq } from '../request/report.js';
import { headersOf } from '../request/headers.js';
import { addrBytes } from '../config/addr.js';
import type { LocationConf } from '../config/types.js';
import { USERID_MAX_EXPIRES, type UseridConf } from '../config/types-output.js';
import { cookieWithLine } from './cookie-line.js';
import { cookieTime } from './http-date.js';

interface UidCtx {
  /** The 16 bytes of the client's cookie (zeros past what decoded), or null. */
  got: Buffer | null;
  /** The cookie's value as sent. */
  cookie: string;
  set: Buffer | null;
  reset: boolean;
  made: boolean;
}

const ctxs = new WeakMap<Req, UidCtx>();

// Per worker, as nginx's: the microseconds of the start in the high half, the pid in the low.
const startValue = ((Math.floor(((Date.now() % 1000) * 1000 + Math.floor(Math.random() * 1000)) / 20) << 16) | process.pid) >>> 0;
let sequencerV1 = 1;
let sequencerV2 = 0x03030302;

const B64 = /^[A-Za-z0-9+/]$/;

function confOf(r: Req): UseridConf | undefined {
  return ((r.loc as LocationConf | undefined) ?? r.server.defaults).output.userid;
}

/** The cookie decoded as nginx does: 22 chars (a mark and the padding after are not read). */
function decode(r: Req, ctx: UidCtx, line: string): void {
  const v = ctx.cookie;
  if (v.length < 22) {
    logReq(r, 'error', `client sent too short userid cookie "${line}"`);
    return;
  }
  let n = 0;
  while (n < 22 && v[n] !== '=') {
    if (!B64.test(v[n]!)) return invalidCookie(r, line);
    n++;
  }
  if (n % 4 === 1) return invalidCookie(r, line);
  const got = Buffer.alloc(16);
  Buffer.from(v.slice(0, n), 'base64').copy(got);
  ctx.got = got;
}

function invalidCookie(r: Req, line: string): void {
  logReq(r, 'error', `client sent invalid userid cookie "${line}"`);
}

function ctxOf(r: Req, conf: UseridConf): UidCtx {
  let ctx = ctxs.get(r);
  if (ctx !== undefined) return ctx;
  ctx = { got: null, cookie: '', set: null, reset: false, made: false };
  ctxs.set(r, ctx);
  const found = cookieWithLine(r.inHeaders.cookie, conf.name);
  if (found !== undefined) {
    ctx.cookie = found.value;
    decode(r, ctx, found.line);
  }
  return ctx;
}

/** A uid counts when its fourth word is not zero (nginx's test). */
function present(b: Buffer | null): b is Buffer {
  return b !== null && b.readUInt32LE(12) !== 0;
}

function hex(name: string, b: Buffer): string {
  let s = `${name}=`;
  for (let i = 0; i < 16; i += 4) s += b.readUInt32LE(i).toString(16).toUpperCase().padStart(8, '0');
  return s;
}

/** The service word of v2 when userid_service is not set: the address the client reached. */
function localWord(r: Req, b: Buffer): void {
  const a = addrBytes(r.ex.localAddress ?? '');
  if (a === null) return;
  b.set(a.subarray(a.length - 4), 0);
}

function create(r: Req, ctx: UidCtx, conf: UseridConf, getVar: (r: Req, n: string) => string | undefined): void {
  if (ctx.made) return;
  ctx.made = true;
  if (present(ctx.got)) {
    const reset = getVar(r, 'uid_reset') ?? '';
    if (reset === '' || reset === '0') {
      const c = ctx.cookie;
      // A cookie without the mark is sent again, marked (the same uid).
      if (conf.mark === '' || (c.length > 23 && c[22] === conf.mark && c[23] === '=')) return;
      ctx.set = ctx.got;
      return;
    }
    ctx.reset = true;
    if (reset === 'log') logReq(r, 'notice', `userid cookie "${hex(conf.name, ctx.got)}" was reset`);
  }
  const b = Buffer.alloc(16);
  const now = Math.floor(Date.now() / 1000) >>> 0;
  if (conf.mode === 'v1') {
    b.writeUInt32LE(conf.service ?? 0, 0);
    b.writeUInt32LE(now, 4);
    b.writeUInt32LE(startValue, 8);
    b.writeUInt32LE(sequencerV1, 12);
    sequencerV1 = (sequencerV1 + 0x100) >>> 0;
  } else {
    if (conf.service !== null) b.writeUInt32BE(conf.service, 0);
    else localWord(r, b);
    b.writeUInt32BE(now, 4);
    b.writeUInt32BE(startValue, 8);
    b.writeUInt32BE(sequencerV2, 12);
    sequencerV2 = (sequencerV2 + 0x100) >>> 0;
    if (sequencerV2 < 0x03030302) sequencerV2 = 0x03030302;
  }
  ctx.set = b;
}

/** $uid_got: the client's uid, or undefined (none, or `userid off`). */
export function uidGot(r: Req): string | undefined {
  const m = r.main;
  const conf = confOf(m);
  if (conf === undefined) return undefined;
  const ctx = ctxOf(m, conf);
  return present(ctx.got) ? hex(conf.name, ctx.got) : undefined;
}

/** $uid_set: the uid the answer sets (made now if need be), or undefined. */
export function uidSet(r: Req, getVar: (r: Req, n: string) => string | undefined): string | undefined {
  const m = r.main;
  const conf = confOf(m);
  if (conf === undefined || conf.mode === 'log') return undefined;
  const ctx = ctxOf(m, conf);
  create(m, ctx, conf, getVar);
  return present(ctx.set) ? hex(conf.name, ctx.set) : undefined;
}

/** The header filter: Set-Cookie (and P3P) on the main request's answer when a uid is to be set. */
export function useridFilter(r: Req, conf: UseridConf, getVar: (r: Req, n: string) => string | undefined): void {
  if (r.parent !== null || conf.mode === 'log') return;
  const ctx = ctxOf(r, conf);
  create(r, ctx, conf, getVar);
  if (!present(ctx.set)) return;
  let v: string;
  if (!present(ctx.got) || ctx.reset) {
    v = ctx.set.toString('base64');
    if (conf.mark !== '') v = `${v.slice(0, 22)}${conf.mark}${v.slice(23)}`;
  } else {
    v = `${ctx.cookie.slice(0, 22)}${conf.mark}=`;
  }
  let cookie = `${conf.name}=${v}`;
  if (conf.expires === USERID_MAX_EXPIRES) cookie += '; expires=Thu, 31-Dec-37 23:55:55 GMT';
  else if (conf.expires > 0) cookie += `; expires=${cookieTime(Math.floor(Date.now() / 1000) + conf.expires)}`;
  cookie += conf.domain + conf.path + conf.flags;
  const h = headersOf(r);
  h.add('Set-Cookie', cookie);
  if (conf.p3p !== '') h.add('P3P', conf.p3p);
}
