// Raw connections for the engine's tests: send exact bytes, read what comes back until the server
// closes (or a deadline), and tell a clean close from a reset.
import net from 'node:net';
import tls from 'node:tls';
import { splitResponses } from './raw-http.js';

export interface RawResult {
  /** Everything received, latin1. */
  data: string;
  /** The server ended the connection (FIN or reset) before the deadline. */
  closed: boolean;
  /** The connection was reset. */
  reset: boolean;
  /** Milliseconds until the close (or the deadline). */
  ms: number;
}

export interface RawOptions {
  timeoutMs?: number;
  gapMs?: number;
  endAfter?: boolean;
  /** Over TLS, with this SNI name and these ALPN protocols. */
  tls?: { servername?: string; alpn?: string[] };
  /** Once this many whole answers are in (framed by their length or chunks; HEAD's, whose length
   *  has no body, with `heads`), the read ends ANSWERS_GRACE_MS later instead of at the deadline. */
  answers?: number;
  /** The answers are to HEAD requests: each is whole at the end of its head. */
  heads?: boolean;
}

/** How many whole answers `data` holds: heads alone (status line to blank line) for HEAD. */
function wholeAnswers(data: string, heads: boolean): number {
  if (heads) return data.match(/HTTP\/1\.[01] \d{3}[^]*?\r\n\r\n/g)?.length ?? 0;
  const r = splitResponses(data, false);
  return r.pending ? 0 : r.statuses.length;
}

/** Time left after the expected answers, to catch bytes a server sends beyond them. */
const ANSWERS_GRACE_MS = 60;

/** Opens a connection, writes `parts` (with `gapMs` between them), reads until close or `timeoutMs`. */
export function raw(port: number, parts: Array<string | Buffer>, opts: RawOptions = {}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    // over TLS: any certificate, the parts written once the handshake is done
    const s = opts.tls ? tls.connect({ port, host: '127.0.0.1', servername: opts.tls.servername, rejectUnauthorized: false, ALPNProtocols: opts.tls.alpn })
      : net.connect(port, '127.0.0.1');
    let data = '';
    let reset = false;
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ data, closed, reset, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 5000);
    s.setEncoding('latin1');
    let graced = false;
    s.on('data', (d: string) => {
      data += d;
      if (opts.answers === undefined || graced) return;
      if (wholeAnswers(data, opts.heads === true) >= opts.answers) {
        graced = true;
        setTimeout(() => finish(false), ANSWERS_GRACE_MS);
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') { reset = true; finish(true); } else if (!done) { done = true; reject(e); }
    });
    s.on('close', () => finish(true));
    s.on(opts.tls ? 'secureConnect' : 'connect', async () => {
      for (const p of parts) {
        if (s.destroyed) return;
        s.write(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (opts.endAfter) s.end();
    });
  });
}

/** The status codes of the answers in `data`, in order. */
export function statuses(data: string): number[] {
  return [...data.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}
