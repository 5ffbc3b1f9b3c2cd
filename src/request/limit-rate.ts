// limit_rate / limit_rate_after and $limit_rate: the answer's body goes out at most RATE bytes a
// second, counted from the request's start as nginx's write filter counts them: with the head
// and the chunk framing (c->sent), allowed = RATE * (whole seconds + 1) - (sent - AFTER), so the
// first second's worth goes at once, and after each write a wait of what it took at the rate. Per request; a keep-alive connection's next request starts afresh.
// Writes queue behind each other so the body keeps its order; the returned promise is the
// back-pressure the output layer already waits on, and the request ends (log phase) once the
// last byte went.

import type { TemplateParts } from '../config/types-access.js';
import type { HttpExchange } from '../http/types.js';
import { logReq } from './report.js';
import type { Req } from './req.js';

type Chunk = Uint8Array | string;

/** Evaluates the conf's `limit_rate $var` with the request's variables; wired by phases/index.ts
 *  (request/ sits below api/, where variables live). */
let evalTemplate: (r: Req, parts: TemplateParts) => string = (_r, parts) =>
  parts.map((p) => (typeof p === 'string' ? p : '')).join('');

export function useTemplateEval(fn: (r: Req, parts: TemplateParts) => string): void {
  evalTemplate = fn;
}

/** nginx's size syntax for $limit_rate and the conf's values: `1024`, `8k`, `1m`. */
export function parseRate(s: string): number | null {
  const m = /^(\d+)([kKmMgG]?)$/.exec(s.trim());
  if (!m) return null;
  return Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[m[2].toLowerCase()];
}

/** `$limit_rate` set (by `set` or ngx.var): nginx's set handler; a bad size is logged and changes nothing. */
export function setLimitRate(r: Req, value: string): void {
  const n = parseRate(value);
  if (n === null) logReq(r, 'error', `invalid $limit_rate "${value}"`);
  else r.main.limitRate = n;
}

/** The request's rate: ngx.var.limit_rate's if a handler set it, else the location's (evaluated
 *  once, at the first write, as nginx 1.22's write filter does). 0: no limit. */
export function rateOf(r: Req): number {
  const m = r.main;
  if (m.limitRate < 0) {
    const parts = r.loc.output.limitRate;
    m.limitRate = parts === undefined ? 0 : parseRate(evalTemplate(r, parts)) ?? 0;
  }
  return m.limitRate;
}

interface Pacer {
  /** Bytes of the connection (head, body, framing) the delays already paid for. */
  paid: number;
  /** No write before this time (ms): the delay owed for the bytes last written. */
  readyAt: number;
  tail: Promise<void>;
}

const pacers = new WeakMap<Req, Pacer>();

/** True when this request's body must be paced (a rate is set, or a queue is still going). */
export function paced(r: Req): boolean {
  // A subrequest's output goes to its parent's buffer, not the connection: nginx does not limit it.
  return r.parent === null && (pacers.has(r) || rateOf(r) > 0);
}

/** Queues a body chunk (and with eof the end) behind earlier ones, paced at the request's rate. */
export function pacedWrite(r: Req, ex: HttpExchange, chunk: Chunk, eof: boolean): Promise<void> {
  const m = r.main;
  let p = pacers.get(m);
  if (p === undefined) { p = { paid: 0, readyAt: 0, tail: Promise.resolve() }; pacers.set(m, p); }
  const pacer = p;
  // Copied: the chunk waits here past the call, and a caller writing to an exchange that copies
  // (copiesChunks: the proxy's read buffers) may reuse its memory as soon as write() returns.
  const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
  pacer.tail = pacer.tail.then(() => send(r, ex, pacer, buf, eof)).catch((e: unknown) => {
    // The exchange refused a write (a connection gone mid-body): cut, as the output layer's fail().
    logReq(r, 'error', `paced write failed: ${e instanceof Error ? e.message : String(e)}`);
    r.cut = true;
    ex.destroy();
  });
  return pacer.tail;
}

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

/** What went to the connection so far, as nginx's c->sent: the head and the framed body. */
function sentBytes(ex: HttpExchange): number {
  return (ex.headBytes ?? 0) + ex.bytesSent;
}

async function send(r: Req, ex: HttpExchange, p: Pacer, buf: Uint8Array, eof: boolean): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    if (r.cut || ex.aborted) return;
    // Read each round: a handler may change ngx.var.limit_rate while the body goes out.
    const rate = r.main.limitRate;
    let n = buf.length - off;
    if (rate > 0) {
      const now = Date.now();
      if (now < p.readyAt) {
        await sleep(p.readyAt - now);
        continue;
      }
      const after = r.main.limitRateAfter >= 0 ? r.main.limitRateAfter : r.loc.output.limitRateAfter ?? 0;
      // nginx's write filter: whole seconds since the request's start, bytes as the connection sent them.
      const secs = Math.floor(now / 1000) - Math.floor(r.main.startMs / 1000);
      const allowed = Math.floor(rate * (secs + 1) - (sentBytes(ex) - after));
      if (allowed <= 0) {
        await sleep(Math.floor((-allowed * 1000) / rate) + 1);
        continue;
      }
      n = Math.min(n, allowed);
    }
    const piece = off === 0 && n === buf.length ? buf : buf.subarray(off, off + n);
    off += n;
    const last = eof && off === buf.length;
    if (last) {
      ex.end(piece);
      return;
    }
    const w = ex.write(piece);
    if (rate > 0) owe(r, ex, p, rate);
    if (w !== undefined) await w;
  }
  if (eof && !(r.cut || ex.aborted)) ex.end();
}

/** After a write, nginx waits what its bytes take at the rate (those past limit_rate_after). */
function owe(r: Req, ex: HttpExchange, p: Pacer, rate: number): void {
  const after = r.main.limitRateAfter >= 0 ? r.main.limitRateAfter : r.loc.output.limitRateAfter ?? 0;
  const sent = sentBytes(ex);
  const ms = Math.floor(((Math.max(sent - after, 0) - Math.max(p.paid - after, 0)) * 1000) / rate);
  p.paid = sent;
  if (ms > 0) p.readyAt = Date.now() + ms;
}
