// Generated answers of a hostile upstream (scripts for hostile-upstream.ts) with what the client
// of the proxy must get for each, from a seeded generator so that a failing case reproduces: valid
// answers (Content-Length, chunked with extensions and trailers, close-delimited HTTP/1.0, 1xx
// first), then the same cut, reset, lengthened, mutated or replaced by bad heads, bad framing,
// huge or many headers, random bytes or silence.
import type { Script, Step } from './hostile-upstream.js';

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;
const int = (r: Rand, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

/**
 * What the client must get. exact: that status and body, complete. status: one of these.
 * cut: one of `statuses`, or `status` with the body cut (the connection closed before its end),
 *   or a close with nothing sent.
 * any: any well-formed answer, or a close with no bytes.
 */
export type Expect =
  | { t: 'exact'; status: number; body: Buffer }
  | { t: 'status'; statuses: number[] }
  | { t: 'cut'; status: number; statuses: number[] }
  | { t: 'any' };

/** An answer as the client parsed it. */
export interface Got {
  /** -1: no status line came. */
  status: number;
  body: Buffer;
  /** The body came whole by its framing (or the answer had no body). */
  complete: boolean;
  /** Bytes came that are not an HTTP answer. */
  garbage: boolean;
  bytes: number;
}

/** Why `got` does not meet `e`, or null when it does. */
export function mismatch(e: Expect, got: Got): string | null {
  const seen = `got status ${got.status}, ${got.body.length} body bytes, ${got.complete ? 'complete' : 'cut'}${got.garbage ? ', garbage' : ''}`;
  if (got.garbage) return seen;
  switch (e.t) {
    case 'exact':
      return got.status === e.status && got.complete && got.body.equals(e.body) ? null : `want ${e.status} with ${e.body.length} bytes: ${seen}`;
    case 'status':
      return e.statuses.includes(got.status) ? null : `want ${e.statuses.join('/')}: ${seen}`;
    case 'cut':
      return e.statuses.includes(got.status) || (got.status === e.status && !got.complete) ? null
        : `want ${e.statuses.join('/')} or a cut ${e.status}: ${seen}`;
    case 'any':
      return null;
  }
}

/**
 * Parses what a client read until the connection closed (one answer: it sent Connection: close).
 * `head`: it was a HEAD request. Its answer, a 204's and a 304's have no body whatever their
 * headers say: a byte after their head is garbage.
 */
export function parseAnswer(b: Buffer, head = false): Got {
  const none: Got = { status: -1, body: Buffer.alloc(0), complete: false, garbage: false, bytes: b.length };
  if (b.length === 0) return none;
  const end = b.indexOf('\r\n\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(b.toString('latin1', 0, Math.min(b.length, 20)));
  if (!m) return { ...none, garbage: true };
  if (end < 0) return { ...none, status: Number(m[1]) };
  const status = Number(m[1]);
  let rest = b.subarray(end + 4);
  if (head || status === 204 || status === 304) return { status, body: rest, complete: true, garbage: rest.length > 0, bytes: b.length };
  const text = b.toString('latin1', 0, end);
  if (/\r\ntransfer-encoding: *chunked/i.test(text)) {
    const parts: Buffer[] = [];
    for (;;) {
      const lf = rest.indexOf('\r\n');
      if (lf < 0) return { status, body: Buffer.concat(parts), complete: false, garbage: false, bytes: b.length };
      const size = parseInt(rest.toString('latin1', 0, lf), 16);
      if (!(size >= 0)) return { status, body: Buffer.concat(parts), complete: false, garbage: true, bytes: b.length };
      if (size === 0) return { status, body: Buffer.concat(parts), complete: rest.indexOf('\r\n\r\n', lf) >= 0 || rest.subarray(lf).equals(Buffer.from('\r\n\r\n')), garbage: false, bytes: b.length };
      const data = rest.subarray(lf + 2, lf + 2 + size);
      parts.push(data);
      if (data.length < size || rest.length < lf + 4 + size) return { status, body: Buffer.concat(parts), complete: false, garbage: false, bytes: b.length };
      rest = rest.subarray(lf + 4 + size);
    }
  }
  const cl = /\r\ncontent-length: *(\d+)/i.exec(text);
  if (cl) {
    const n = Number(cl[1]);
    return { status, body: rest.subarray(0, n), complete: rest.length >= n, garbage: rest.length > n, bytes: b.length };
  }
  // No framing: the body runs to the close (or there is none: 204, 304).
  return { status, body: rest, complete: true, garbage: false, bytes: b.length };
}

/**
 * `b` without the interim 1xx heads (100 Continue, 103) an upstream may send before its answer:
 * what the proxy reads as the answer (it skips them, as nginx does).
 */
export function finalAnswer(b: Buffer): Buffer {
  for (;;) {
    const m = /^HTTP\/1\.[01] 1(?!01)\d\d/.exec(b.toString('latin1', 0, Math.min(b.length, 20)));
    const end = b.indexOf('\r\n\r\n');
    if (!m || end < 0) return b;
    b = b.subarray(end + 4);
  }
}

/** How the client sends its request. */
export type ReqKind = 'get' | 'head' | 'small' | 'large' | 'chunked' | 'huge';

export interface Case {
  id: number;
  loc: string;
  req: ReqKind;
  scripts: Script[];
  expect: Expect;
  /** What was generated, for a failure's message. */
  label: string;
  /** The client sends its request in pieces of these sizes with this pause (ms). */
  pieces: number[];
  pause: number;
  /** The client stops reading for this long (ms) after the first bytes of the answer. */
  slowRead: number;
}

interface Answer {
  bytes: Buffer;
  /** Where the final head ends (after any 1xx). */
  headEnd: number;
  status: number;
  body: Buffer;
  framing: 'cl' | 'chunked' | 'close';
  label: string;
}

const STATUSES = [200, 200, 200, 200, 200, 200, 201, 404, 500, 204, 304];
const SIZES = [0, 1, 17, 300, 3000, 20_000, 70_000, 70_000, 600_000];

function bodyOf(r: Rand, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  const c = 97 + int(r, 26);
  for (let i = 0; i < n; i++) b[i] = c + (i % 7 === 6 ? -32 : 0); // letters, with a pattern to see shifts
  return b;
}

/** A well-formed answer, with optional 1xx heads first and extra headers. */
function validAnswer(r: Rand, opts: { framing?: Answer['framing']; extraHead?: string; status?: number } = {}): Answer {
  const status = opts.status ?? pick(r, STATUSES);
  const body = bodyOf(r, pick(r, SIZES));
  const framing = opts.framing ?? pick(r, ['cl', 'cl', 'cl', 'chunked', 'chunked', 'close'] as const);
  const minor = framing === 'chunked' ? 1 : pick(r, [0, 1]);
  let pre = '';
  if (r() < 0.12) pre += 'HTTP/1.1 100 Continue\r\n\r\n';
  if (r() < 0.08) pre += 'HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n';
  let head = `HTTP/1.${minor} ${status} ${pick(r, ['OK', 'Fine', '', 'Some Reason Text'])}\r\n`;
  if (r() < 0.5) head += 'Content-Type: text/plain\r\n';
  for (let i = int(r, 4); i > 0; i--) head += `X-Fz-${i}: ${'v'.repeat(int(r, 40))}\r\n`;
  if (opts.extraHead) head += opts.extraHead;
  let tail: Buffer;
  if (framing === 'cl') {
    head += `Content-Length: ${body.length}\r\n`;
    if (minor === 0 && r() < 0.5) head += 'Connection: keep-alive\r\n';
    tail = body;
  } else if (framing === 'chunked') {
    head += 'Transfer-Encoding: chunked\r\n';
    const parts: Buffer[] = [];
    for (let at = 0; at < body.length;) {
      const n = Math.min(body.length - at, 1 + int(r, r() < 0.5 ? 20 : 9000));
      const size = r() < 0.5 ? n.toString(16) : n.toString(16).toUpperCase();
      parts.push(Buffer.from(`${r() < 0.1 ? `00${size}` : size}${r() < 0.1 ? ';ext=1' : ''}\r\n`), body.subarray(at, at + n), Buffer.from('\r\n'));
      at += n;
    }
    parts.push(Buffer.from(r() < 0.2 ? '0\r\nX-Trailer: t\r\n\r\n' : '0\r\n\r\n'));
    tail = Buffer.concat(parts);
  } else {
    if (minor === 1) head += 'Connection: close\r\n';
    tail = body;
  }
  head += '\r\n';
  const headBytes = Buffer.from(pre + head, 'latin1');
  const noBody = status === 204 || status === 304;
  return {
    bytes: Buffer.concat([headBytes, tail]), headEnd: headBytes.length, status, body: noBody ? Buffer.alloc(0) : body, framing,
    label: `${status} ${framing} ${body.length}B${pre ? ' +1xx' : ''}`,
  };
}

/** Random piece sizes: answers split at random points (an empty list: one write). */
function pieces(r: Rand, len: number): number[] {
  if (r() < 0.4) return [];
  const out: number[] = [];
  for (let k = 1 + int(r, 6); k > 0; k--) out.push(1 + int(r, Math.max(1, Math.min(len, 200))));
  return out;
}

function writeStep(r: Rand, data: Buffer, split = true): Step {
  return { kind: 'write', data, pieces: split ? pieces(r, data.length) : [], pause: r() < 0.3 ? int(r, 15) : 0 };
}

/**
 * Heads tresty's parser refuses (502). nginx 1.22.1 refuses only the bad name, the NUL and the
 * lone CR; it passes the rest on (the last Content-Length, chunked over Content-Length, an
 * unknown coding or a length of -1 read to the close, a line without a colon as an empty header):
 * measured, 2026-12-02.
 */
const REFUSED_HEADS = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000000000000000\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\n: empty-name\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nX-Nul: a\x00b\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nX-Cr: a\rb\r\nContent-Length: 0\r\n\r\n',
  `HTTP/1.1 200 OK\r\nX-Huge: ${'h'.repeat(6000)}\r\nContent-Length: 0\r\n\r\n`,
];

/**
 * Not a status line: nginx 1.22.1 takes these for an HTTP/0.9 answer and passes the bytes on as
 * they came, no status line (measured); tresty answers 502 (its client never gets bytes that are
 * not HTTP: the test fails on those).
 */
const ODD_STARTS = [
  'HTTP/1.1 2OO OK\r\n\r\n', 'HTTP/2.0 200 OK\r\n\r\n', 'HTTP/1.1 99 x\r\n\r\n', 'HTTP/1.1 200OK\r\n\r\n',
  'http/1.1 200 OK\r\n\r\n', 'HTTP/1.1 1000 OK\r\n\r\n', '\r\nHTTP/1.1 200 OK\r\n\r\n', 'hello, HTTP/0.9 world\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n', 'HTTP/1.1', 'HTTP/1.1 200 OK\r\n\r',
];

/** One answer that fails before any head is kept: the proxy answers 502 / 504 (or tries the next server). */
function failBeforeHead(r: Rand): { steps: Step[]; expect: Expect; label: string } {
  const k = int(r, 10);
  if (k < 4) {
    const h = pick(r, REFUSED_HEADS);
    return { steps: [writeStep(r, Buffer.from(h, 'latin1')), { kind: 'end' }], expect: { t: 'status', statuses: [502] }, label: `refused head ${JSON.stringify(h.slice(0, 60))}` };
  }
  if (k < 6) return { steps: [{ kind: 'end' }], expect: { t: 'status', statuses: [502] }, label: 'close before answering' };
  if (k < 8) return { steps: [{ kind: 'reset' }], expect: { t: 'status', statuses: [502] }, label: 'reset before answering' };
  if (k < 9) {
    const a = validAnswer(r);
    const at = int(r, a.headEnd);
    return { steps: [writeStep(r, a.bytes.subarray(0, at)), { kind: r() < 0.5 ? 'end' : 'reset' }], expect: { t: 'status', statuses: [502] }, label: `head cut at ${at} of ${a.headEnd}` };
  }
  return { steps: [{ kind: 'hang' }], expect: { t: 'status', statuses: [504] }, label: 'no answer' };
}

/** One case: where the client sends it, how, and the upstream's script(s). */
export function makeCase(r: Rand, id: number): Case {
  const two = r() < 0.12;
  const loc = two ? '/two/' : pick(r, ['/b/', '/nb/', '/ka/', '/kanb/', '/nrb/']);
  const req: ReqKind = two ? 'get' : pick(r, ['get', 'get', 'get', 'small', 'small', 'large', 'chunked', 'chunked']);
  const waitBody = req === 'get' || r() < 0.5;
  const client = { pieces: r() < 0.3 ? [1 + int(r, 40), 1 + int(r, 40)] : [], pause: int(r, 4), slowRead: r() < 0.15 ? 20 + int(r, 300) : 0 };
  const mk = (steps: Step[], expect: Expect, label: string): Case => ({
    id, loc, req, expect, label: `${label}${waitBody ? '' : ' (answered before the body)'}`, scripts: [{ steps, waitBody }], ...client,
  });

  if (!two && r() < 0.02) {
    // A server nothing listens on: the connect is refused.
    const c = mk([{ kind: 'hang' }], { t: 'status', statuses: [502] }, 'connect refused');
    c.loc = '/gone/';
    return c;
  }
  if (two) {
    // The first server fails before a head: the next one's answer is the client's.
    const first = failBeforeHead(r);
    const a = validAnswer(r);
    const c = mk([writeStep(r, a.bytes), ...(a.framing === 'close' ? [{ kind: 'end' } as Step] : [])], { t: 'exact', status: a.status, body: a.body }, `next upstream after ${first.label}, then ${a.label}`);
    c.scripts.unshift({ steps: first.steps, waitBody });
    return c;
  }

  const k = r();
  if (k < 0.3) {
    const a = validAnswer(r);
    if (req === 'get' && r() < 0.2) {
      // HEAD: the upstream sends the body anyway (as many do); the client must get none of it.
      const c = mk([writeStep(r, a.bytes), ...(a.framing === 'close' ? [{ kind: 'end' } as Step] : [])], { t: 'exact', status: a.status, body: Buffer.alloc(0) }, `HEAD, valid ${a.label} with its body`);
      c.req = 'head';
      return c;
    }
    return mk([writeStep(r, a.bytes), ...(a.framing === 'close' ? [{ kind: 'end' } as Step] : [])], { t: 'exact', status: a.status, body: a.body }, `valid ${a.label}`);
  }
  if (k < 0.45) {
    // Cut (closed or reset) at a random byte.
    const a = validAnswer(r, { status: pick(r, [200, 201, 404]) });
    const at = int(r, a.bytes.length);
    const how = r() < 0.6 ? 'end' : 'reset';
    const steps: Step[] = [writeStep(r, a.bytes.subarray(0, at)), { kind: how }];
    const label = `${a.label} ${how} at ${at} (head ${a.headEnd})`;
    if (at < a.headEnd) return mk(steps, { t: 'status', statuses: [502] }, label);
    if (a.framing === 'close') {
      // Closed: the answer is what came. Reset: the bytes before the reset may be lost.
      return mk(steps, how === 'end' ? { t: 'exact', status: a.status, body: a.body.subarray(0, at - a.headEnd) } : { t: 'any' }, label);
    }
    return mk(steps, { t: 'cut', status: a.status, statuses: [502] }, label);
  }
  if (k < 0.5) {
    // Longer than its Content-Length: the extra bytes come in the same write (then it closes).
    const a = validAnswer(r, { framing: 'cl' });
    const extra = r() < 0.5 ? Buffer.from('garbage after the answer') : validAnswer(r).bytes;
    return mk([writeStep(r, Buffer.concat([a.bytes, extra]), false)], { t: 'exact', status: a.status, body: a.body }, `${a.label} + ${extra.length} extra bytes`);
  }
  if (k < 0.62) {
    const f = failBeforeHead(r);
    return mk(f.steps, f.expect, f.label);
  }
  if (k < 0.67) {
    const s = pick(r, ODD_STARTS);
    return mk([writeStep(r, Buffer.from(s, 'latin1')), { kind: 'end' }], { t: 'any' }, `odd start ${JSON.stringify(s)}`);
  }
  if (k < 0.72) {
    // Many headers, around proxy_buffer_size (4k): refused above it, passed below.
    const n = int(r, 120);
    let extra = '';
    for (let i = 0; i < n; i++) extra += `X-Many-${i}: ${'m'.repeat(int(r, 40))}\r\n`;
    const a = validAnswer(r, { extraHead: extra });
    const size = a.headEnd;
    const expect: Expect = size > 4096 + 400 ? { t: 'status', statuses: [502] } : size < 4096 - 400 ? { t: 'exact', status: a.status, body: a.body } : { t: 'any' };
    return mk([writeStep(r, a.bytes), ...(a.framing === 'close' ? [{ kind: 'end' } as Step] : [])], expect, `${n} headers (${size} B head), ${a.label}`);
  }
  if (k < 0.8) {
    // Bad chunk framing after a good head: the head went to the client, the body is cut.
    const a = validAnswer(r, { framing: 'chunked', status: 200 });
    const bad = pick(r, ['zz\r\n', '-5\r\nhello\r\n', '0x5\r\nhello\r\n', '\r\n', 'fffffffffffffffff\r\n', '5\r\nhelloXX\r\n', '3\r\nhello\r\n',
      `${'1'.repeat(5000)}`]);
    const body = Buffer.from(`5\r\nhello\r\n${bad}`, 'latin1');
    const steps: Step[] = [writeStep(r, Buffer.concat([a.bytes.subarray(0, a.headEnd), body])), { kind: 'end' }];
    return mk(steps, { t: 'cut', status: 200, statuses: [502] }, `bad chunk ${JSON.stringify(bad.slice(0, 30))}`);
  }
  if (k < 0.83) {
    // A head, part of the body, then silence: the read timeout ends it.
    const a = validAnswer(r, { framing: pick(r, ['cl', 'chunked'] as const), status: 200 });
    const at = a.headEnd + Math.floor((a.bytes.length - a.headEnd) / 2);
    // (An empty Content-Length body is whole with its head.)
    const expect: Expect = a.framing === 'cl' && a.body.length === 0 ? { t: 'exact', status: 200, body: a.body } : { t: 'cut', status: 200, statuses: [502, 504] };
    return mk([writeStep(r, a.bytes.subarray(0, at)), { kind: 'hang' }], expect, `${a.label} silent after ${at}`);
  }
  if (k < 0.93) {
    // A valid answer with a few bytes replaced.
    const a = validAnswer(r);
    const b = Buffer.from(a.bytes);
    for (let m = 1 + int(r, 3); m > 0 && b.length > 0; m--) b[int(r, Math.min(b.length, a.headEnd + 64))] = int(r, 256);
    return mk([writeStep(r, b), { kind: 'end' }], { t: 'any' }, `mutated ${a.label}`);
  }
  if (k < 0.95) {
    // It stops reading a body of megabytes: the proxy's writes wait (proxy_send_timeout, or the
    // read timeout once the kernel took it all); or it answers at once and closes meanwhile.
    const c = mk([{ kind: 'deaf' }, { kind: 'hang' }], { t: 'status', statuses: [504] }, 'deaf to a 3 MB body');
    c.req = 'huge';
    c.scripts[0]!.waitBody = false;
    if (r() < 0.5) {
      const a = validAnswer(r, { framing: pick(r, ['cl', 'chunked'] as const) });
      // (A close, not a reset: the kernel may have taken the whole body, so the answer can be
      // whole and its connection pooled; a request the proxy sends on it before the close
      // arrives is then seen by the upstream, and allowed a 502, as with nginx.)
      c.scripts[0]!.steps = [{ kind: 'deaf' }, writeStep(r, a.bytes), { kind: 'end' }];
      c.expect = { t: 'any' };
      c.label = `deaf to a 3 MB body, answers ${a.label} at once, closes`;
    }
    return c;
  }
  const junk = Buffer.from(Array.from({ length: int(r, 400) }, () => int(r, 256)));
  return mk([writeStep(r, junk), { kind: r() < 0.5 ? 'end' : 'reset' }], { t: 'any' }, `${junk.length} random bytes`);
}

/** The request a client sends for case `c` (always Connection: close: one answer per connection). */
export function requestBytes(c: Case): Buffer {
  const start = `${c.req === 'get' ? 'GET' : c.req === 'head' ? 'HEAD' : 'POST'} ${c.loc}c/${c.id} HTTP/1.1\r\nHost: fz\r\nConnection: close\r\n`;
  if (c.req === 'get' || c.req === 'head') return Buffer.from(`${start}\r\n`);
  if (c.req === 'small') return Buffer.from(`${start}Content-Length: 5\r\n\r\nhello`);
  if (c.req === 'huge') return Buffer.concat([Buffer.from(`${start}Content-Length: 3000000\r\n\r\n`), Buffer.alloc(3_000_000, 'H')]);
  if (c.req === 'large') return Buffer.concat([Buffer.from(`${start}Content-Length: 200000\r\n\r\n`), Buffer.alloc(200_000, 'L')]);
  return Buffer.from(`${start}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n${(3000).toString(16)}\r\n${'C'.repeat(3000)}\r\n0\r\n\r\n`);
}
