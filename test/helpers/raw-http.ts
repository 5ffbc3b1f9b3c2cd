// Sends raw bytes on one TCP connection and reports what the server answered: the status of
// each response in order and whether the connection was closed. Used by the request-smuggling
// table (test/fixtures/http-refusals.ts), against real nginx and against tresty alike.
import net from 'node:net';

export interface RawAnswer {
  /** Status of each response, in order; an HTTP/0.9 answer (no status line) counts with the
   *  status in its HTML title (nginx's error pages), else 200. */
  statuses: number[];
  /** Whether any answer came without a status line (HTTP/0.9). */
  http09: boolean;
  /** The server closed the connection, or did not answer a request sent after (lingering close). */
  closed: boolean;
  /** All bytes received, latin1. */
  raw: string;
}

export interface RawOptions {
  /** Quiet time that ends the answer when the connection stays open (ms). */
  quietMs?: number;
  /** Responses expected (default 1): until that many came, silence is a server still busy, not an
   *  end, for up to answerMs. On a loaded machine a first answer took over 250 ms; the follow-up
   *  request was then sent early and the late answer counted as the follow-up's. */
  answers?: number;
  /** How long to wait for the expected responses before the quiet time may end the answer (ms). */
  answerMs?: number;
  /** Time a follow-up request may take to be answered (ms). */
  followUpMs?: number;
  /** The host to name in the follow-up request. */
  host?: string;
}

/** Bytes of a latin1 string: one char per byte, as the tables write raw requests. */
export function latin1(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** Splits `data` into complete responses; returns them and whether a partial one is pending. */
export function splitResponses(data: string, closed: boolean): { statuses: number[]; http09: boolean; pending: boolean } {
  const statuses: number[] = [];
  let http09 = false;
  let at = 0;
  while (at < data.length) {
    if (!data.startsWith('HTTP/', at) && !('HTTP/'.startsWith(data.slice(at)))) {
      // HTTP/0.9: the answer is the rest of the stream, ended by the close
      if (!closed) return { statuses, http09, pending: true };
      const m = /<title>(\d{3}) /.exec(data.slice(at));
      statuses.push(m ? Number(m[1]) : 200);
      http09 = true;
      return { statuses, http09, pending: false };
    }
    const end = data.indexOf('\r\n\r\n', at);
    if (end < 0) return { statuses, http09, pending: true };
    const head = data.slice(at, end);
    const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(head)?.[1] ?? 0);
    let bodyStart = end + 4;
    const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      let p = bodyStart;
      for (;;) {
        const le = data.indexOf('\r\n', p);
        if (le < 0) return { statuses, http09, pending: true };
        const size = parseInt(data.slice(p, le), 16);
        if (size === 0) {
          const fin = data.indexOf('\r\n', le + 2);
          if (fin < 0) return { statuses, http09, pending: true };
          p = fin + 2;
          break;
        }
        p = le + 2 + size + 2;
        if (p > data.length) return { statuses, http09, pending: true };
      }
      bodyStart = p;
    } else if (cl) {
      bodyStart += Number(cl[1]);
      if (bodyStart > data.length) return { statuses, http09, pending: true };
    } else if (status >= 200 && status !== 204 && status !== 304) {
      // no length: the body runs to the close
      statuses.push(status);
      return { statuses, http09, pending: !closed };
    }
    statuses.push(status);
    at = bodyStart;
  }
  return { statuses, http09, pending: false };
}

/**
 * Sends `bytes`, collects the answers until the connection closes or stays quiet with no
 * response half-read, then, if it is still open, sends a plain GET and waits for its answer:
 * no answer means the server was closing (nginx's lingering close after an error).
 */
export function sendRaw(port: number, bytes: Buffer, opts: RawOptions = {}): Promise<RawAnswer> {
  const quietMs = opts.quietMs ?? 250;
  const followUpMs = opts.followUpMs ?? 2000;
  const answers = opts.answers ?? 1;
  let answerBy = Infinity; // set once the bytes are sent
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    let closed = false;
    let phase: 'answer' | 'followup' | 'done' = 'answer';
    let baseline = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (followUpAnswered: boolean | null) => {
      if (phase === 'done') return;
      phase = 'done';
      clearTimeout(timer);
      sock.destroy();
      const upto = followUpAnswered === null ? data : data.slice(0, baseline);
      const r = splitResponses(upto, true);
      resolve({ statuses: r.statuses, http09: r.http09, closed: followUpAnswered !== true, raw: upto });
    };
    const settle = () => {
      clearTimeout(timer);
      if (phase === 'answer') {
        timer = setTimeout(() => {
          const r = splitResponses(data, false);
          if (r.pending) return settle();
          if (r.statuses.length < answers && Date.now() < answerBy) return settle();
          phase = 'followup';
          baseline = data.length;
          sock.write(`GET /__alive HTTP/1.1\r\nHost: ${opts.host ?? 'localhost'}\r\n\r\n`);
          timer = setTimeout(() => finish(false), followUpMs);
        }, quietMs);
      } else if (phase === 'followup') {
        const r = splitResponses(data.slice(baseline), false);
        if (r.statuses.length > 0) finish(true);
      }
    };
    sock.setNoDelay(true);
    sock.on('connect', () => {
      sock.write(bytes);
      answerBy = Date.now() + (opts.answerMs ?? 10_000);
      settle();
    });
    sock.on('data', (d) => { data += d.toString('latin1'); settle(); });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') { phase = 'done'; clearTimeout(timer); reject(e); return; }
      closed = true; // a reset after an error answer counts as a close
    });
    sock.on('close', () => {
      closed = true;
      if (phase === 'answer') finish(null);
      else if (phase === 'followup') finish(false);
    });
    void closed;
  });
}
