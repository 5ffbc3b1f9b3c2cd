// A scripted upstream for fuzzing the proxy: node:net servers (two ports, one case table) that read
// each request the proxy sends (head, then its body by Content-Length or chunked framing) and
// answer as the case named by the URL's last segment says: bytes written in pieces with pauses,
// a half-close, a reset, or no answer at all; before or after the request body arrived. A case can
// have several scripts: the n-th request for it gets the n-th (the last repeats), so a retry on the
// next server can get a different answer. Connections stay open for the next request unless the
// script closes them, so keep-alive reuse after any answer is exercised.
import net from 'node:net';
import { finalAnswer, parseAnswer } from './upstream-cases.js';

export type Step =
  | { kind: 'write'; data: Buffer; /** piece sizes; the rest goes last */ pieces: number[]; /** ms between pieces */ pause: number }
  | { kind: 'end' }
  | { kind: 'reset' }
  /** Answers nothing more (the proxy's read timeout ends it). */
  | { kind: 'hang' }
  /** Stops reading the request (its body fills the socket: the proxy's writes wait). */
  | { kind: 'deaf' };

export interface Script {
  steps: Step[];
  /** Answer only once the request body arrived (else at once after the head). */
  waitBody: boolean;
}

export interface HostileUpstream {
  readonly ports: [number, number];
  /** Scripts by case id. */
  readonly scripts: Map<number, Script[]>;
  /** Requests seen per case id. */
  readonly hits: Map<number, number>;
  /**
   * Cases whose request came on a connection this side had closed already (a keep-alive answer,
   * then a close): the proxy may have taken it from its pool before the close arrived, as nginx
   * may, and a request it must not send twice (POST) then gets a 502. Or on one that stopped
   * answering after an answer that was whole (its script hung): a 504.
   */
  readonly raced: Set<number>;
  /** Connections accepted and open now. */
  readonly accepted: () => number;
  readonly open: () => number;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));

/** Reads requests off a byte stream: 'head' (its URL) then 'body' once the body is in. */
class RequestReader {
  private buf = Buffer.alloc(0);
  private state: 'head' | 'length' | 'size' | 'data' | 'crlf' | 'trailer' | 'bad' = 'head';
  private left = 0;
  readonly events: Array<{ type: 'head'; url: string; isHead: boolean } | { type: 'body' } | { type: 'bad' }> = [];

  push(b: Buffer): void {
    this.buf = this.buf.length === 0 ? b : Buffer.concat([this.buf, b]);
    for (;;) {
      if (this.state === 'bad') return;
      if (this.state === 'head') {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) {
          if (this.buf.length > 65536) this.bad();
          return;
        }
        const head = this.buf.toString('latin1', 0, end);
        this.buf = this.buf.subarray(end + 4);
        const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]\r\n/.exec(head);
        if (!m) { this.bad(); return; }
        this.events.push({ type: 'head', url: m[2]!, isHead: m[1] === 'HEAD' });
        const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
        if (/\r\ntransfer-encoding: *chunked/i.test(head)) this.state = 'size';
        else if (cl && Number(cl[1]) > 0) { this.state = 'length'; this.left = Number(cl[1]); }
        else this.events.push({ type: 'body' });
        continue;
      }
      if (this.state === 'length' || this.state === 'data') {
        const take = Math.min(this.left, this.buf.length);
        this.buf = this.buf.subarray(take);
        this.left -= take;
        if (this.left > 0) return;
        if (this.state === 'length') { this.state = 'head'; this.events.push({ type: 'body' }); } else this.state = 'crlf';
        continue;
      }
      const lf = this.buf.indexOf('\n');
      if (lf < 0) return;
      const line = this.buf.toString('latin1', 0, lf).replace(/\r$/, '');
      this.buf = this.buf.subarray(lf + 1);
      if (this.state === 'size') {
        const size = parseInt(line, 16);
        if (!/^[0-9a-fA-F]+/.test(line) || !(size >= 0)) { this.bad(); return; }
        if (size === 0) this.state = 'trailer';
        else { this.state = 'data'; this.left = size; }
      } else if (this.state === 'crlf') {
        if (line !== '') { this.bad(); return; }
        this.state = 'size';
      } else if (line === '') {
        this.state = 'head';
        this.events.push({ type: 'body' });
      }
    }
  }

  private bad(): void {
    this.state = 'bad';
    this.events.push({ type: 'bad' });
  }
}

/** Writes `data` in pieces with pauses; false when the socket went meanwhile. */
async function write(s: net.Socket, data: Buffer, pieces: number[], pause: number): Promise<boolean> {
  let at = 0;
  for (const n of pieces) {
    if (at >= data.length) break;
    if (s.destroyed) return false;
    s.write(data.subarray(at, at + n));
    at += n;
    await sleep(pause);
  }
  if (s.destroyed) return false;
  if (at < data.length) s.write(data.subarray(at));
  return true;
}

export async function startHostileUpstream(): Promise<HostileUpstream> {
  const scripts = new Map<number, Script[]>();
  const hits = new Map<number, number>();
  const raced = new Set<number>();
  const sockets = new Set<net.Socket>();
  let accepted = 0;

  const serve = async (s: net.Socket): Promise<void> => {
    const reader = new RequestReader();
    let wake: (() => void) | null = null;
    let closed = false;
    let ended = false;
    let hung = false;
    // The last answer had bytes past its end (a 204's, 304's or HEAD's body, more than its
    // Content-Length; judged after any 1xx heads, which the proxy skips) that may have reached the
    // proxy only after it kept the connection: the next request on it may read them as its answer
    // (nginx has the same race), so it counts as raced.
    let dirty = false;
    let isHead = false;
    s.on('data', (b: Buffer) => { reader.push(b); wake?.(); });
    s.on('close', () => { closed = true; wake?.(); });
    s.on('error', () => { /* resets are part of the game */ });
    const next = async (): Promise<string | null> => {
      for (;;) {
        const e = reader.events.shift();
        if (e !== undefined) {
          if (e.type !== 'head') return e.type;
          isHead = e.isHead;
          return e.url;
        }
        if (closed) return null;
        await new Promise<void>((r) => { wake = r; });
        wake = null;
      }
    };
    for (;;) {
      const url = await next();
      if (url === null) return;
      const id = Number(/(\d+)$/.exec(url)?.[1] ?? NaN);
      const list = scripts.get(id);
      if (url === 'bad' || list === undefined) { s.destroy(); return; }
      if (ended || hung || dirty) raced.add(id);
      if (ended || hung) {
        if (await next() === null) return; // its body
        continue;
      }
      const n = hits.get(id) ?? 0;
      hits.set(id, n + 1);
      const script = list[Math.min(n, list.length - 1)]!;
      const head = isHead;
      const written: Buffer[] = [];
      let bodyIn = false;
      if (script.waitBody) {
        if (await next() === null) return;
        bodyIn = true;
      }
      for (const step of script.steps) {
        if (step.kind === 'write') {
          written.push(step.data);
          if (!await write(s, step.data, step.pieces, step.pause)) return;
        } else if (step.kind === 'end') {
          ended = true;
          s.end();
        } else if (step.kind === 'deaf') {
          // Deaf for longer than the proxy's timeouts; then it reads again, to see the close.
          s.pause();
          setTimeout(() => s.resume(), 3000);
        } else if (step.kind === 'reset') {
          s.resetAndDestroy();
          return;
        } else {
          hung = true; // later requests on it (after an answer the proxy took as whole) get nothing
          break;
        }
      }
      dirty = parseAnswer(finalAnswer(Buffer.concat(written)), head).garbage;
      if (!bodyIn && await next() === null) return;
    }
  };

  const servers = [0, 1].map(() => net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    void serve(s);
  }));
  const ports = await Promise.all(servers.map((srv) => new Promise<number>((resolve) => {
    srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port));
  })));
  return {
    ports: [ports[0]!, ports[1]!], scripts, hits, raced,
    accepted: () => accepted,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
    },
  };
}
