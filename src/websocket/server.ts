// The server side of a websocket over ngx.req.socket(true), in the shape of lua-resty-websocket's
// resty.websocket.server: `new` checks the handshake and answers it (101), then recv_frame and
// send_text / send_binary / send_ping / send_pong / send_close / send_frame. Values, not throws,
// for what the peer or the connection did: [data, type, err] and [bytes, null] / [null, err].
import { createHash } from 'node:crypto';
import { TrestyError } from '../errors.js';
import type { RawReqSocket } from '../api/req-socket-raw.js';
import { buildFrame, OP, readFrame, type FrameResult } from './frame.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface ServerOptions {
  /** Largest payload recv_frame takes (default 65535): beyond, "exceeding max payload len". */
  max_payload_len?: number;
  /** Mask the frames sent (a server does not; default false). */
  send_masked?: boolean;
  /** Read and send timeout in ms (default: the socket's, 60 s). */
  timeout?: number;
}

/** What the helper needs of a request's `ngx` (content_by_js, access_by_js, rewrite_by_js). */
export interface NgxForWebsocket {
  readonly headers_sent: boolean;
  status: number;
  readonly header: Record<string, unknown>;
  send_headers(): unknown;
  flush(wait?: boolean): Promise<unknown>;
  readonly req: {
    get_headers(): Record<string, string | string[] | undefined>;
    socket(raw: true, opts?: { binary?: boolean }): [RawReqSocket, null] | [null, string];
  };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

type Payload = string | Uint8Array;
type Sent = Promise<[number, null] | [null, string]>;

export class WebSocketServer {
  #closed = false;

  /** @internal made by `server.new` once the handshake went out. */
  constructor(readonly sock: RawReqSocket, private readonly maxLen: number, private readonly masked: boolean) {}

  /** Reads one frame: [data, type, err] (frame.ts FrameResult). */
  recv_frame(): Promise<FrameResult> {
    return readFrame(this.sock, this.maxLen, true);
  }

  /** Sends one frame of type `op` (0x0-0xf); `fin` false for a frame followed by more of its message. */
  async send_frame(fin: boolean, op: number, payload: Payload = ''): Sent {
    if (this.#closed) return [null, 'already closed'];
    if (!Number.isInteger(op) || op < 0 || op > 0xf) throw new TrestyError('TRESTY_ERR_API_ARGS', `bad opcode: ${op}`);
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if ((op & 0x8) !== 0) {
      if (data.byteLength > 125) return [null, 'too long payload for control frame'];
      if (!fin) return [null, 'fragmented control frame'];
    }
    return this.sock.send(buildFrame(fin, op, data, this.masked));
  }

  send_text(data: Payload): Sent { return this.send_frame(true, OP.text, data); }
  send_binary(data: Payload): Sent { return this.send_frame(true, OP.binary, data); }
  send_ping(data: Payload = ''): Sent { return this.send_frame(true, OP.ping, data); }
  send_pong(data: Payload = ''): Sent { return this.send_frame(true, OP.pong, data); }

  /** The close frame (with `code` and `msg` when a code is given); nothing is sent after it. */
  async send_close(code?: number, msg = ''): Sent {
    let payload: Buffer = Buffer.alloc(0);
    if (code !== undefined && code !== null) {
      if (!Number.isInteger(code) || code < 0 || code > 0xffff) throw new TrestyError('TRESTY_ERR_API_ARGS', `bad close code: ${code}`);
      const m = Buffer.from(msg);
      payload = Buffer.alloc(2 + m.length);
      payload.writeUInt16BE(code, 0);
      m.copy(payload, 2);
    }
    const r = await this.send_frame(true, OP.close, payload);
    this.#closed = true;
    return r;
  }

  /** The read and send timeout, in ms. */
  set_timeout(ms: number): void { this.sock.settimeout(ms); }
}

export const server = {
  /**
   * Checks the request's websocket handshake (GET with `Upgrade: websocket`, `Connection: upgrade`,
   * `Sec-WebSocket-Key`, `Sec-WebSocket-Version: 13`), answers it (101 with its
   * `Sec-WebSocket-Accept`, the first protocol asked for) and takes the raw socket:
   * [server, null], or [null, reason] with nothing sent (the handler answers, often 400).
   */
  async new(ngx: NgxForWebsocket, opts: ServerOptions = {}): Promise<[WebSocketServer, null] | [null, string]> {
    if (ngx.headers_sent) return [null, 'response header already sent'];
    const h = ngx.req.get_headers();
    const up = first(h.upgrade);
    if (up === undefined) return [null, 'bad "upgrade" request header: nil'];
    if (up.toLowerCase() !== 'websocket') return [null, `bad "upgrade" request header: ${up.toLowerCase()}`];
    const conn = first(h.connection);
    if (conn === undefined || !conn.toLowerCase().includes('upgrade')) return [null, `bad "connection" request header: ${conn ?? 'nil'}`];
    const key = first(h['sec-websocket-key']);
    if (key === undefined) return [null, 'bad "sec-websocket-key" request header'];
    const ver = first(h['sec-websocket-version']);
    if (ver !== '13') return [null, `bad "sec-websocket-version" request header: ${ver ?? 'nil'}`];
    const protocols = first(h['sec-websocket-protocol']);
    if (protocols !== undefined) ngx.header['Sec-WebSocket-Protocol'] = protocols.split(',')[0]!.trim();
    ngx.header['Upgrade'] = 'websocket';
    ngx.header['Sec-WebSocket-Accept'] = createHash('sha1').update(key + GUID).digest('base64');
    ngx.header['Content-Type'] = null;
    ngx.status = 101;
    // The head must reach the client before the socket is taken; a client gone says so here.
    // (stand-ins for ngx may return anything: only ngx's [null, err] is a failure)
    const sent = ngx.send_headers();
    if (Array.isArray(sent) && sent[0] === null) return [null, `failed to send response header: ${String(sent[1])}`];
    const flushed = await ngx.flush(true);
    if (Array.isArray(flushed) && flushed[0] === null) return [null, `failed to flush response header: ${String(flushed[1])}`];
    const [sock, err] = ngx.req.socket(true, { binary: true });
    if (sock === null) return [null, err];
    const max = opts.max_payload_len ?? 65535;
    if (opts.timeout !== undefined) sock.settimeout(opts.timeout);
    return [new WebSocketServer(sock, max, opts.send_masked === true), null];
  },
};
