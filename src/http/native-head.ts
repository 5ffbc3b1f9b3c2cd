// Strings the native exchange frames answers with, made once instead of per answer: the head's
// first lines (status line, Server, Date) per status while the Date stays the same second, and
// the chunk-size lines of small chunks. Building them per answer was a visible share of a small
// answer's JS time (bench/README.md, "The CPU of a simple request").
import { httpDate } from './http-date.js';
import { reasonPhrase } from './native-pages.js';
import { software } from './software.js';

/** `200 OK`; nginx has no reason for 1xx but 101's, none below 100 either, and prints three digits. */
function statusLine(status: number): string {
  return status < 200 && status !== 101 ? `${String(status).padStart(3, '0')} ` : `${status} ${reasonPhrase(status)}`;
}

let date = '';
let name = '';
/** Status (1-999) -> its first lines with Server and Date, for `date` and `name`; '' not made yet. */
const starts: string[] = new Array<string>(1000).fill('');

/** The status line, then Server and Date unless the answer has its own (nginx's order). */
export function headStart(status: number, ownServer: boolean, ownDate: boolean): string {
  if (ownServer || ownDate) {
    return `HTTP/1.1 ${statusLine(status)}\r\n${ownServer ? '' : `Server: ${software()}\r\n`}${ownDate ? '' : `Date: ${httpDate()}\r\n`}`;
  }
  const d = httpDate();
  const n = software();
  if (d !== date || n !== name) {
    starts.fill('');
    date = d;
    name = n;
  }
  let s = starts[status]!;
  if (s === '') starts[status] = s = `HTTP/1.1 ${statusLine(status)}\r\nServer: ${n}\r\nDate: ${d}\r\n`;
  return s;
}

const SIZES: string[] = [];

/** A chunk's size line: `1f\r\n`. */
export function chunkSize(n: number): string {
  if (n >= 4096) return `${n.toString(16)}\r\n`;
  return (SIZES[n] ??= `${n.toString(16)}\r\n`);
}

/** The last chunk, with add_trailer's lines when the answer has some (types.ts, `trailers`). */
export function lastChunk(trailers: (() => ReadonlyArray<readonly [string, string]>) | null | undefined): string {
  if (!trailers) return '0\r\n\r\n';
  let s = '0\r\n';
  for (const [n, v] of trailers()) s += `${n}: ${v}\r\n`;
  return `${s}\r\n`;
}
