// A resumable parser of HTTP/1.x responses from upstream servers (STYLE 16): feed it what each
// read brings, it calls back with the head, body slices (views of the read buffers, never
// copies) and the end. It refuses what nginx refuses from an upstream: a bad status line or
// header, Content-Length with Transfer-Encoding, two different Content-Lengths, a bad chunk size,
// a head larger than proxy_buffer_size. 1xx interim answers (100 Continue) are skipped.

export interface ResponseHead {
  status: number;
  reason: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** Header names and values as received: [name, value, name, value, ...]. */
  raw: string[];
  /** -1 when the answer has no Content-Length. */
  contentLength: number;
  chunked: boolean;
  /** The connection may carry another request after this answer (by version and Connection). */
  keepAlive: boolean;
}

export interface ParserEvents {
  onHead(head: ResponseHead): void;
  onBody(chunk: Buffer): void;
  /** The answer is complete; `rest` holds bytes that came after it (the connection is unusable). */
  onEnd(rest: boolean): void;
  onError(message: string): void;
}

const enum S { Head, Length, ChunkSize, ChunkData, ChunkEnd, Trailer, Close, Done, Failed }

const CR = 13;
const LF = 10;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export class ResponseParser {
  private state = S.Head;
  private head: Buffer | null = null;
  private left = 0;
  private line = '';
  /** No body whatever the headers say (HEAD requests, 204, 304). */
  private noBody = false;

  constructor(private readonly ev: ParserEvents, private readonly maxHead: number) {}

  /** Before each request: HEAD answers carry no body. */
  reset(headRequest: boolean): void {
    this.state = S.Head;
    this.head = null;
    this.left = 0;
    this.line = '';
    this.noBody = headRequest;
  }

  get done(): boolean { return this.state === S.Done; }
  /** The body runs until the connection closes (no length, not chunked). */
  get untilClose(): boolean { return this.state === S.Close; }

  execute(buf: Buffer): void {
    let at = 0;
    const n = buf.length;
    while (at < n) {
      switch (this.state) {
        case S.Head: {
          at = this.readHead(buf, at);
          break;
        }
        case S.Length: {
          const take = Math.min(this.left, n - at);
          this.left -= take;
          const chunk = at === 0 && take === n ? buf : buf.subarray(at, at + take);
          at += take;
          this.ev.onBody(chunk);
          if (this.left === 0) this.finish(at < n);
          break;
        }
        case S.ChunkSize:
        case S.ChunkEnd:
        case S.Trailer: {
          const lf = buf.indexOf(LF, at);
          const end = lf < 0 ? n : lf;
          this.line += buf.toString('latin1', at, end);
          at = lf < 0 ? n : lf + 1;
          if (lf < 0) {
            if (this.line.length > 4096) this.fail('upstream sent too long chunk line');
            break;
          }
          const text = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
          this.line = '';
          this.chunkLine(text, at < n);
          break;
        }
        case S.ChunkData: {
          const take = Math.min(this.left, n - at);
          this.left -= take;
          this.ev.onBody(buf.subarray(at, at + take));
          at += take;
          if (this.left === 0) this.state = S.ChunkEnd;
          break;
        }
        case S.Close:
          this.ev.onBody(at === 0 ? buf : buf.subarray(at));
          at = n;
          break;
        case S.Done: // bytes after the answer: finish() told the owner (rest = true)
        case S.Failed:
          return;
      }
    }
  }

  /** The connection closed: ends a close-delimited body, else the answer was cut. */
  eof(): void {
    if (this.state === S.Close) { this.finish(false); return; }
    if (this.state === S.Done || this.state === S.Failed) return;
    this.fail(this.state === S.Head && this.head === null
      ? 'upstream prematurely closed connection while reading response header from upstream'
      : 'upstream prematurely closed connection while reading upstream');
  }

  private fail(msg: string): void {
    this.state = S.Failed;
    this.ev.onError(msg);
  }

  private finish(rest: boolean): void {
    this.state = S.Done;
    this.ev.onEnd(rest);
  }

  private readHead(buf: Buffer, at: number): number {
    let data = buf;
    let from = at;
    if (this.head !== null) {
      data = Buffer.concat([this.head, buf.subarray(at)]);
      from = 0;
    }
    const end = findHeadEnd(data, from);
    if (end === null) {
      if (data.length - from > this.maxHead) { this.fail('upstream sent too big header while reading response header from upstream'); return buf.length; }
      this.head = this.head === null ? Buffer.from(buf.subarray(at)) : data;
      return buf.length;
    }
    if (end.at - from > this.maxHead) { this.fail('upstream sent too big header while reading response header from upstream'); return buf.length; }
    const consumed = this.head === null ? end.next : end.next - this.head.length + at;
    this.head = null;
    const text = data.toString('latin1', from, end.at);
    const head = parseHead(text);
    if (typeof head === 'string') { this.fail(head); return buf.length; }
    if (head.status < 200 && head.status !== 101) {
      // 100 Continue and other interim answers: the real one follows.
      return consumed;
    }
    // After 101 the upstream speaks another protocol on the connection: never pooled (nginx's
    // keepalive = 0), even when the client did not ask for the switch.
    if (head.status === 101) head.keepAlive = false;
    this.ev.onHead(head);
    if (this.state === S.Failed) return buf.length;
    if (this.noBody || head.status === 204 || head.status === 304 || head.status === 101) {
      this.finish(consumed < buf.length);
      return buf.length;
    }
    if (head.chunked) {
      this.state = S.ChunkSize;
    } else if (head.contentLength >= 0) {
      this.left = head.contentLength;
      if (this.left === 0) { this.finish(consumed < buf.length); return buf.length; }
      this.state = S.Length;
    } else {
      head.keepAlive = false;
      this.state = S.Close;
    }
    return consumed;
  }

  private chunkLine(text: string, more: boolean): void {
    if (this.state === S.ChunkEnd) {
      if (text !== '') { this.fail('upstream sent invalid chunked response'); return; }
      this.state = S.ChunkSize;
      return;
    }
    if (this.state === S.Trailer) {
      if (text === '') this.finish(more);
      return;
    }
    const semi = text.indexOf(';');
    const hex = (semi < 0 ? text : text.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,15}$/.test(hex)) { this.fail('upstream sent invalid chunked response'); return; }
    const size = parseInt(hex, 16);
    if (size === 0) { this.state = S.Trailer; return; }
    this.left = size;
    this.state = S.ChunkData;
  }
}

/** Where the head ends: index of the blank line and of the first byte after it. */
function findHeadEnd(b: Buffer, from: number): { at: number; next: number } | null {
  const i = b.indexOf(CRLFCRLF, from);
  if (i >= 0) return { at: i, next: i + 4 };
  // LF-only lines (nginx accepts them from upstreams).
  const j = b.indexOf(LFLF, from);
  return j < 0 ? null : { at: j, next: j + 2 };
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

/**
 * `HTTP/1.x NNN[ reason]` in text[0, end): the status, or -1 when the line is not one. Checked by
 * hand: a regular expression's match array and captures were a share of every answer's garbage.
 */
function statusLine(text: string, end: number): number {
  if (end < 12 || !text.startsWith('HTTP/1.')) return -1;
  const minor = text.charCodeAt(7);
  if ((minor !== 48 && minor !== 49) || text.charCodeAt(8) !== 32) return -1;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    status = status * 10 + d;
  }
  if (end > 12 && text.charCodeAt(12) !== 32) return -1;
  // The reason is any text but a CR (as the line's pattern had it: `.` does not match one).
  const cr = end > 13 ? text.indexOf('\r', 13) : -1;
  return cr >= 0 && cr < end ? -1 : status;
}

const BAD_BYTE = /\0|\r(?![\r\n]|$)/;

/** What String#trim removes, among the bytes of a latin1 head: TAB, LF, VT, FF, CR, SP, NBSP. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 160;
}

/** The status line and headers, or the reason they are invalid. */
export function parseHead(text: string): ResponseHead | string {
  // Lines are found with indexOf, not split: no array and no copy of each line per answer.
  let eol = text.indexOf('\n');
  if (eol < 0) eol = text.length;
  const lineEnd = eol > 0 && text.charCodeAt(eol - 1) === CR ? eol - 1 : eol;
  const status = statusLine(text, lineEnd);
  if (status < 0) return 'upstream sent no valid HTTP/1.0 header while reading response header from upstream';
  // A NUL, or a CR followed by a byte other than CR / LF, anywhere in the head: nginx refuses the
  // header (502; CRs before a line's LF it takes), it is never passed on (escaped) to the client.
  // One scan of the head, no match array. (The text ends before the blank line: a CR last is one
  // before the head's final CRLF.)
  if (BAD_BYTE.test(text)) return 'upstream sent invalid header while reading response header from upstream';
  const minor = text.charCodeAt(7) - 48;
  const head: ResponseHead = {
    status, reason: lineEnd > 13 ? text.slice(13, lineEnd) : '', minor, raw: [],
    contentLength: -1, chunked: false, keepAlive: minor === 1,
  };
  let te = false;
  for (let at = eol + 1; at < text.length;) {
    let next = text.indexOf('\n', at);
    if (next < 0) next = text.length;
    let end = next;
    if (end > at && text.charCodeAt(end - 1) === CR) end--;
    const from = at;
    at = next + 1;
    if (end === from) continue;
    const colon = text.indexOf(':', from);
    const name = colon > from && colon < end ? text.slice(from, colon) : '';
    if (!TOKEN.test(name)) return 'upstream sent invalid header while reading response header from upstream';
    // Trimmed by hand (String#trim on the slice would make a second string per header).
    let vs = colon + 1;
    let ve = end;
    while (vs < ve && isSpace(text.charCodeAt(vs))) vs++;
    while (ve > vs && isSpace(text.charCodeAt(ve - 1))) ve--;
    const value = text.slice(vs, ve);
    head.raw.push(name, value);
    const c = name.length;
    if (c === 14 && name.toLowerCase() === 'content-length') {
      const len = /^\d+$/.test(value) ? Number(value) : -1;
      // Past 2^53 a length is not exact in a number: as invalid as a sign or a letter (nginx 1.22
      // reads a length past 2^63 as none at all and the body to the close; refused here).
      if (!(len >= 0 && len <= Number.MAX_SAFE_INTEGER)) return 'upstream sent invalid "Content-Length" header while reading response header from upstream';
      if (head.contentLength >= 0 && head.contentLength !== len) return 'upstream sent duplicate header line: "Content-Length" while reading response header from upstream';
      head.contentLength = len;
    } else if (c === 17 && name.toLowerCase() === 'transfer-encoding') {
      te = true;
      head.chunked = /(^|,)\s*chunked\s*$/i.test(value);
    } else if (c === 10 && name.toLowerCase() === 'connection') {
      const v = value.toLowerCase();
      if (v.includes('close')) head.keepAlive = false;
      else if (v.includes('keep-alive')) head.keepAlive = true;
    }
  }
  if (te && head.contentLength >= 0) {
    return 'upstream sent "Content-Length" and "Transfer-Encoding" headers at the same time while reading response header from upstream';
  }
  if (te && !head.chunked) return 'upstream sent unknown "Transfer-Encoding" while reading response header from upstream';
  return head;
}
