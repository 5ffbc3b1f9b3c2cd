// The bytes of nginx 1.22's autoindex listings (html, xml, json), as observed: CRLF line ends,
// names as raw bytes (no charset: an HTML name is cut at 50 bytes, even inside a UTF-8 sequence),
// directories first then byte order, links escaped but for A-Z a-z 0-9 - . _ ~. Strings here are
// latin1, one char per byte, so that the bytes of a name go out unchanged.

export interface Entry {
  /** The name's bytes as latin1 chars. */
  readonly name: string;
  readonly kind: 'directory' | 'file' | 'other';
  readonly mtimeMs: number;
  readonly size: number;
}

export interface HtmlOptions {
  readonly exactSize: boolean;
  readonly localtime: boolean;
}

const NAME_LEN = 50;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** nginx's order: directories first, then the names' bytes. */
export function sortEntries(list: Entry[]): Entry[] {
  return list.sort((a, b) => {
    const ad = a.kind === 'directory';
    if (ad !== (b.kind === 'directory')) return ad ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

export function escapeHtml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : '&quot;'));
}

function escapeHref(s: string): string {
  return s.replace(/[^A-Za-z0-9\-._~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function escapeJson(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/["\\\x00-\x1f]/g, (c) => (c === '"' || c === '\\' ? `\\${c}` : `\\u00${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

const two = (n: number): string => String(n).padStart(2, '0');

function htmlDate(ms: number, local: boolean): string {
  const d = new Date(ms);
  return local
    ? `${two(d.getDate())}-${MONTHS[d.getMonth()]}-${d.getFullYear()} ${two(d.getHours())}:${two(d.getMinutes())}`
    : `${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

/** The size column: exact (19 wide) or rounded to K/M/G as nginx rounds (7 wide). */
function sizeColumn(e: Entry, exact: boolean): string {
  if (exact) return e.kind === 'directory' ? `${' '.repeat(18)}-` : String(e.size).padStart(19);
  if (e.kind === 'directory') return '      -';
  const n = e.size;
  const scaled = (unit: number, c: string): string => {
    let v = Math.floor(n / unit);
    if (n % unit > unit / 2 - 1) v++;
    return `${String(v).padStart(6)}${c}`;
  };
  if (n > 1024 * 1024 * 1024 - 1) return scaled(1024 * 1024 * 1024, 'G');
  if (n > 1024 * 1024 - 1) return scaled(1024 * 1024, 'M');
  if (n > 9999) return scaled(1024, 'K');
  return ` ${String(n).padStart(6)}`;
}

export function html(uri: string, list: readonly Entry[], o: HtmlOptions): string {
  const title = escapeHtml(uri);
  let out = `<html>\r\n<head><title>Index of ${title}</title></head>\r\n<body>\r\n<h1>Index of ${title}</h1><hr><pre><a href="../">../</a>\r\n`;
  for (const e of list) {
    const dir = e.kind === 'directory';
    let len = e.name.length;
    out += `<a href="${escapeHref(e.name)}${dir ? '/' : ''}">`;
    if (len > NAME_LEN) {
      out += `${escapeHtml(e.name.slice(0, NAME_LEN - 3))}..&gt;</a>`;
    } else {
      out += escapeHtml(e.name);
      if (dir && len < NAME_LEN) {
        out += '/';
        len++;
      }
      out += `</a>${' '.repeat(NAME_LEN - len)}`;
    }
    out += ` ${htmlDate(e.mtimeMs, o.localtime)} ${sizeColumn(e, o.exactSize)}\r\n`;
  }
  return `${out}</pre><hr></body>\r\n</html>\r\n`;
}

function isoDate(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

function httpDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} `
    + `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`;
}

export function xml(list: readonly Entry[]): string {
  let out = '<?xml version="1.0"?>\r\n<list>\r\n';
  for (const e of list) {
    const size = e.kind === 'file' ? ` size="${e.size}"` : '';
    out += `<${e.kind} mtime="${isoDate(e.mtimeMs)}"${size}>${escapeHtml(e.name)}</${e.kind}>\r\n`;
  }
  return `${out}</list>\r\n`;
}

export function json(list: readonly Entry[]): string {
  const lines = list.map((e) => `{ "name":"${escapeJson(e.name)}", "type":"${e.kind}", "mtime":"${httpDate(e.mtimeMs)}"`
    + `${e.kind === 'file' ? `, "size":${e.size}` : ''} }`);
  return `[\r\n${lines.join(',\r\n')}${lines.length > 0 ? '\r\n' : ''}]`;
}

export function jsonp(list: readonly Entry[], callback: string): string {
  return `/* callback */\r\n${callback}(${json(list)});`;
}
