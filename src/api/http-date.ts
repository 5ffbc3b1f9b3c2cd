// ngx.http_time / cookie_time / parse_http_time as nginx computes them (ngx_gmtime,
// ngx_parse_http_time): the seconds go to C as a time_t, a negative one is the epoch, one past
// 9999-12-31 23:59:59 is that; the parser reads the three formats of RFC 2616 strictly by
// position, takes a day 00, checks hours, minutes, seconds and the days of the month, and ignores
// what follows the time (no `GMT` needed).

import { TrestyError } from '../errors.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MDAY = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** 9999-12-31 23:59:59, ngx_gmtime's last second. */
const MAX = 253402300799;

const p2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** The UTC fields of `sec` as ngx_gmtime gives them (time_t: truncated; NaN, Infinity and
 *  anything past int64 are INT64_MIN, as x86 converts them, so the epoch). */
function gmtime(sec: number): Date {
  let t = Math.trunc(sec);
  if (!(t >= 0) || t >= 2 ** 63) t = 0;
  return new Date(Math.min(t, MAX) * 1000);
}

/** The seconds http_time and cookie_time take: a number, else lua-resty-core's raise. */
export function timeArg(sec: unknown): number {
  if (typeof sec !== 'number') throw new TrestyError('TRESTY_ERR_API_ARGS', 'number argument only');
  return sec;
}

/** `Thu, 18 Nov 2010 11:27:35 GMT`. */
export function httpTime(sec: number): string {
  const d = gmtime(sec);
  return `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} GMT`;
}

/** `Thu, 18-Nov-10 11:27:35 GMT`: a 2-digit year up to 2037, as nginx writes it. */
export function cookieTime(sec: number): string {
  const d = gmtime(sec);
  const y = d.getUTCFullYear();
  return `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${y > 2037 ? y : p2(y % 100)} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} GMT`;
}

const enum Fmt { None, Rfc822, Rfc850, Isoc }

/** ngx_parse_http_time over `b`'s bytes: seconds (negative before 1970), or null. */
export function parseHttpTime(b: Uint8Array): number | null {
  const end = b.length;
  const at = (i: number): number => (i < end ? b[i]! : 0); // C reads a NUL past the end
  const digit = (i: number): number => { const c = at(i); return c >= 48 && c <= 57 ? c - 48 : -1; };
  const two = (i: number): number => (digit(i) < 0 || digit(i + 1) < 0 ? -1 : digit(i) * 10 + digit(i + 1));
  const four = (i: number): number => (two(i) < 0 || two(i + 2) < 0 ? -1 : two(i) * 100 + two(i + 2));
  let fmt = Fmt.None;
  let p = 0;
  for (; p < end; p++) {
    if (b[p] === 0x2c) break;
    if (b[p] === 0x20) { fmt = Fmt.Isoc; break; }
  }
  for (p++; p < end; p++) if (b[p] !== 0x20) break;
  if (end - p < 18) return null;
  let day = 0;
  let year = 0;
  if (fmt !== Fmt.Isoc) {
    day = two(p);
    if (day < 0) return null;
    p += 2;
    if (at(p) === 0x20) {
      if (end - p < 18) return null;
      fmt = Fmt.Rfc822;
    } else if (at(p) === 0x2d) {
      fmt = Fmt.Rfc850;
    } else {
      return null;
    }
    p++;
  }
  let month: number;
  switch (String.fromCharCode(at(p))) {
    case 'J': month = at(p + 1) === 0x61 ? 0 : at(p + 2) === 0x6e ? 5 : 6; break;
    case 'F': month = 1; break;
    case 'M': month = at(p + 2) === 0x72 ? 2 : 4; break;
    case 'A': month = at(p + 1) === 0x70 ? 3 : 7; break;
    case 'S': month = 8; break;
    case 'O': month = 9; break;
    case 'N': month = 10; break;
    case 'D': month = 11; break;
    default: return null;
  }
  p += 3;
  if ((fmt === Fmt.Rfc822 && at(p) !== 0x20) || (fmt === Fmt.Rfc850 && at(p) !== 0x2d)) return null;
  p++;
  if (fmt === Fmt.Rfc822) {
    year = four(p);
    if (year < 0) return null;
    p += 4;
  } else if (fmt === Fmt.Rfc850) {
    year = two(p);
    if (year < 0) return null;
    year += year < 70 ? 2000 : 1900;
    p += 2;
  }
  if (fmt === Fmt.Isoc) {
    if (at(p) === 0x20) p++;
    if (digit(p) < 0) return null;
    day = digit(p++);
    if (at(p) !== 0x20) {
      if (digit(p) < 0) return null;
      day = day * 10 + digit(p++);
    }
    if (end - p < 14) return null;
  }
  if (at(p++) !== 0x20) return null;
  const hour = two(p);
  if (hour < 0) return null;
  p += 2;
  if (at(p++) !== 0x3a) return null;
  const min = two(p);
  if (min < 0) return null;
  p += 2;
  if (at(p++) !== 0x3a) return null;
  const sec = two(p);
  if (sec < 0) return null;
  if (fmt === Fmt.Isoc) {
    p += 2;
    if (at(p++) !== 0x20) return null;
    year = four(p);
    if (year < 0) return null;
  }
  if (hour > 23 || min > 59 || sec > 59) return null;
  if (day === 29 && month === 1) {
    if ((year & 3) || (year % 100 === 0 && year % 400 !== 0)) return null;
  } else if (day > MDAY[month]!) {
    return null;
  }
  // Gauss' formula from March 1, 1 BC, as nginx: months from March, January and February last.
  let m = month;
  let y = year;
  if (--m <= 0) { m += 12; y -= 1; }
  const days = 365 * y + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400) + Math.floor((367 * m) / 12) - 30 + day - 1 - 719527 + 31 + 28;
  const t = days * 86400 + hour * 3600 + min * 60 + sec;
  // lua-resty-core reads -1 (NGX_ERROR) as a failure: 1969-12-31 23:59:59 is nil there too
  return t === -1 ? null : t;
}
