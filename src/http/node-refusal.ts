// What nginx would log and answer for a request node:http's own parser refused (its
// `clientError` event): llhttp's error code and the position it stopped at, read back against
// the bytes it was parsing, become nginx's reason (`client sent invalid method`...), its phase
// and the context fields nginx has by then (the request line as received, the Host if read).
// The native engine's parser (native/http/) words these the same; node's parser refuses some
// requests nginx takes and takes some nginx refuses, so the wording is the closest nginx has
// for what node saw.
import { httpDate } from './http-date.js';
import { reasonPhrase, wireStatus } from './native-pages.js';
import { software } from './software.js';

/** A head (request line or headers) node refused. */
export interface HeadRefusal {
  /** nginx's status: answered with its page, then the connection is closed. */
  readonly status: number;
  /** nginx's reason with its detail, e.g. `client sent invalid header line: "Bad\x20..."`. */
  readonly reason: string;
  readonly phase: 'while reading client request line' | 'while reading client request headers';
  /** The request line as received (up to its CR/LF or the bytes read), '' when none. */
  readonly request: string;
  /** The Host header, when it came before the refused line (nginx picks the server by it). */
  readonly host: string | undefined;
}

/**
 * nginx's words for a head llhttp refused with `code` at byte `at` of `packet` (the bytes it was
 * parsing; the request is taken to start after the last empty line before `at`). `fromStart`:
 * `packet` is known to begin with the request's head; else it may be the last of several reads,
 * and a long head's request line may be before it.
 */
export function headRefusal(code: string, packet: Buffer, at: number, fromStart = false): HeadRefusal {
  at = Math.max(0, Math.min(at, packet.length));
  const start = headStart(packet, at);
  // nginx's request line ends at its first CR or LF; it is complete at its LF.
  const request = packet.toString('latin1', start, eol(packet, start));
  const lineLf = lf(packet, start);
  if (code === 'HPE_HEADER_OVERFLOW' && start === 0 && !fromStart && midHead(packet)) {
    // The head is too long in a header line of an earlier read's request: nginx's 494, its line
    // as far as this read holds it.
    const text = packet.toString('latin1', 0, eol(packet, 0));
    return { status: 494, reason: `client sent too long header line: "${text.slice(0, 1748)}..."`, phase: 'while reading client request headers', request: '', host: undefined };
  }
  if (at <= lineLf) {
    if (code === 'HPE_INVALID_EOF_STATE') return { ...closed, phase: 'while reading client request line', request, host: undefined };
    const r = lineReason(code, request);
    return { ...r, phase: 'while reading client request line', request, host: undefined };
  }
  // The header line that holds the error (lines end at LF), and the Host among those before it.
  let host: string | undefined;
  const seen: string[] = [];
  let line = lineLf + 1;
  for (;;) {
    const end = lf(packet, line);
    if (at <= end || end >= packet.length) break;
    const t = packet.toString('latin1', line, end).replace(/\r$/, '');
    seen.push(t);
    const m = /^host:[ \t]*(.*?)[ \t]*$/i.exec(t);
    if (m && host === undefined) host = m[1];
    line = end + 1;
  }
  const phase = 'while reading client request headers' as const;
  const text = packet.toString('latin1', line, eol(packet, line));
  const named = (n: string): string | undefined => seen.find((t) => new RegExp(`^${n}[ \t]*:`, 'i').test(t));
  switch (code) {
    case 'HPE_INVALID_EOF_STATE':
      return { ...closed, phase, request, host };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING': {
      // llhttp says these of a Content-Length sent twice or next to a Transfer-Encoding too.
      const isCl = /^content-length[ \t]*:/i.test(text);
      const isTe = /^transfer-encoding[ \t]*:/i.test(text);
      const prev = isCl ? named('content-length') : isTe ? named('transfer-encoding') : undefined;
      if (prev !== undefined) {
        return { status: 400, reason: duplicateHeader(text, prev), phase, request, host };
      }
      if ((isCl && named('transfer-encoding') !== undefined) || (isTe && named('content-length') !== undefined)) {
        return { status: 400, reason: 'client sent "Content-Length" and "Transfer-Encoding" headers at the same time', phase, request, host };
      }
      if (code === 'HPE_INVALID_TRANSFER_ENCODING') {
        return { status: 501, reason: unknownTransferEncoding(text.replace(/^[^:]*:[ \t]*/, '').trimEnd()), phase, request, host };
      }
      return { status: 400, reason: 'client sent invalid "Content-Length" header', phase, request, host };
    }
    case 'HPE_HEADER_OVERFLOW':
      // nginx shows the line it could not hold, cut at NGX_MAX_ERROR_STR - 300 bytes.
      return { status: 494, reason: `client sent too long header line: "${text.slice(0, 1748)}..."`, phase, request, host };
    default: {
      // nginx's Host check refuses a bad byte in its value with its own words.
      const colon = text.indexOf(':');
      if (/^host[ \t]*:/i.test(text) && at > line + colon) return { status: 400, reason: 'client sent invalid host header', phase, request, host };
      return { status: 400, reason: `client sent invalid header line${badByte(packet, line, at, colon)}`, phase, request, host };
    }
  }
}

/**
 * Whether a read with no empty line before the error continues a head begun in an earlier read:
 * told by its shape (a request line starts with a method and a space; a piece of a header does not).
 */
function midHead(packet: Buffer): boolean {
  return !/^[\r\n]*[A-Z_-]+ /.test(packet.toString('latin1', 0, Math.min(packet.length, 40)));
}

/** The client closed before the head was whole: nginx logs it and answers nothing. */
const closed = { status: 0, reason: 'client prematurely closed connection' };

/**
 * nginx's detail of a bad header line: the line up to the byte it blames, that byte in hex.
 * llhttp stops a byte later than nginx after a CR not followed by LF, after a space that starts a
 * line, and at the colon after a space in a name it knows (Content-Length): nginx blames those.
 */
function badByte(b: Buffer, line: number, at: number, colon: number): string {
  if (at > line && b[at - 1] === 13 && b[at] !== 10) at--;
  else if (b[line] === 32 || b[line] === 9) at = line;
  else if (colon >= 0 && at === line + colon) {
    const sp = b.subarray(line, at).findIndex((c) => c === 32 || c === 9);
    if (sp >= 0) at = line + sp;
  }
  const bad = b[at];
  if (bad === undefined) return '';
  return `: "${b.toString('latin1', line, at)}\\x${bad.toString(16).padStart(2, '0')}..."`;
}

/** nginx's words for a header that may come once, sent twice. */
export function duplicateHeader(line: string, previous: string): string {
  const norm = (t: string): string => t.replace(/^([^:]*?)[ \t]*:[ \t]*(.*?)[ \t]*$/, '$1: $2');
  return `client sent duplicate header line: "${norm(line)}", previous value: "${norm(previous)}"`;
}

/** nginx's reason for a Transfer-Encoding other than `chunked`. */
export function unknownTransferEncoding(value: string): string {
  return `client sent unknown "Transfer-Encoding": "${value}"`;
}

/** The reason and status for a refused request line. */
function lineReason(code: string, line: string): { status: number; reason: string } {
  switch (code) {
    case 'HPE_INVALID_METHOD':
      return { status: 400, reason: 'client sent invalid method' };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 414, reason: 'client sent too long URI' };
    case 'HPE_INVALID_VERSION': {
      // nginx: a well-formed version above 1.x is not supported (505); anything else is malformed.
      const m = / HTTP\/([1-9]\d*)\.(\d+)$/.exec(line);
      return m && Number(m[1]) > 1 && m[2]!.length <= 3
        ? { status: 505, reason: 'client sent invalid version' }
        : { status: 400, reason: 'client sent invalid request' };
    }
    default:
      return { status: 400, reason: 'client sent invalid request' };
  }
}

/** Where the request holding byte `at` starts: after the last empty line before it, past CR/LFs. */
function headStart(b: Buffer, at: number): number {
  let s = 0;
  for (let i = Math.min(at, b.length) - 1; i > 0; i--) {
    if (b[i] === 10 && (b[i - 1] === 10 || (b[i - 1] === 13 && i > 1 && b[i - 2] === 10))) { s = i + 1; break; }
  }
  while (s < at && (b[s] === 13 || b[s] === 10)) s++;
  return s;
}

/** The end of the line starting at `i` (its CR or LF, or the end of the bytes). */
function eol(b: Buffer, i: number): number {
  while (i < b.length && b[i] !== 13 && b[i] !== 10) i++;
  return i;
}

/** The LF ending the line that starts at `i` (or the end of the bytes). */
function lf(b: Buffer, i: number): number {
  const n = b.indexOf(10, i);
  return n < 0 ? b.length : n;
}

/** The status line nginx sends for a refusal's status (494 is sent as 400). */
export function refusalAnswer(status: number, page: string): string {
  const wire = wireStatus(status);
  const line = `${wire} ${reasonPhrase(wire)}`;
  return `HTTP/1.1 ${line}\r\nServer: ${software()}\r\nDate: ${httpDate()}\r\nContent-Type: text/html\r\n`
    + `Content-Length: ${Buffer.byteLength(page)}\r\nConnection: close\r\n\r\n${page}`;
}

