// Time formats of nginx variables and ngx.* time APIs. Strings are cached per second because
// the access log asks for them on every request.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function p2(n: number): string { return n < 10 ? `0${n}` : String(n); }

function tzOffset(d: Date, colon: boolean): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return `${sign}${p2(Math.floor(a / 60))}${colon ? ':' : ''}${p2(a % 60)}`;
}

let cachedSec = -1;
let cachedLocal = '';
let cachedIso = '';

function refresh(sec: number): void {
  if (sec === cachedSec) return;
  cachedSec = sec;
  const d = new Date(sec * 1000);
  cachedLocal = `${p2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${tzOffset(d, false)}`;
  cachedIso = `${localtime(sec).replace(' ', 'T')}${tzOffset(d, true)}`;
}

/** `$time_local`: `21/Nov/2026:10:30:00 +0000`. */
export function timeLocal(ms = Date.now()): string { refresh(Math.floor(ms / 1000)); return cachedLocal; }
/** `$time_iso8601`: `2026-11-21T10:30:00+00:00`. */
export function timeIso(ms = Date.now()): string { refresh(Math.floor(ms / 1000)); return cachedIso; }
/** `$msec`: seconds with milliseconds. */
export function msec(ms = Date.now()): string { return (ms / 1000).toFixed(3); }

/** ngx.localtime: `yyyy-mm-dd hh:mm:ss` in local time. */
export function localtime(sec = Math.floor(Date.now() / 1000)): string {
  const d = new Date(sec * 1000);
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}
/** ngx.utctime: `yyyy-mm-dd hh:mm:ss` in UTC. */
export function utctime(sec = Math.floor(Date.now() / 1000)): string {
  return new Date(sec * 1000).toISOString().slice(0, 19).replace('T', ' ');
}
/** ngx.today: `yyyy-mm-dd` in local time. */
export function today(): string { return localtime().slice(0, 10); }
