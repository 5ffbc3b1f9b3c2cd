// A client for native/build/tresty-uds-echo (or any server speaking its frames):
// one persistent unix-socket connection, pipelined calls, answers matched to
// calls in order. Frame: u32 little-endian payload length, then the payload.
//
//   const c = await connectUds('/tmp/echo.sock', { codec: 'msgpack' });
//   const answer = await c.call({ hello: 'world' });
//   await c.close();
//
// The codec is pluggable so the benchmark serializes exactly as the FFI side
// does: pass the FFI plugin's own { encode, decode }, or one of the names below.
import net from 'node:net';
import { Packr } from 'msgpackr';

/** @typedef {{ encode(value: any): Uint8Array, decode(bytes: Uint8Array): any }} Codec */

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const packr = new Packr();

/** @type {Record<'raw' | 'string' | 'json' | 'msgpack', Codec>} */
export const codecs = {
  raw: {
    encode: (v) => (v instanceof Uint8Array ? v : utf8.encode(String(v))),
    decode: (b) => b,
  },
  string: { encode: (v) => utf8.encode(String(v)), decode: (b) => fromUtf8.decode(b) },
  json: { encode: (v) => utf8.encode(JSON.stringify(v)), decode: (b) => JSON.parse(fromUtf8.decode(b)) },
  msgpack: { encode: (v) => packr.pack(v), decode: (b) => packr.unpack(b) },
};

// Payloads up to this size are copied behind their header into one buffer;
// larger ones are written as two chunks, which the corked socket sends with one writev.
const COPY_MAX = 16 * 1024;

/** Splits a byte stream into frames; hands each payload to onFrame. */
export class FrameParser {
  /** @param {(payload: Buffer) => void} onFrame */
  constructor(onFrame) {
    this.onFrame = onFrame;
    /** @type {Buffer[]} */
    this.chunks = [];
    this.have = 0; // bytes buffered in chunks
    this.need = -1; // payload length of the frame being read, -1 before its header
  }

  /** @param {Buffer} chunk */
  push(chunk) {
    this.chunks.push(chunk);
    this.have += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.have < 4) return;
        this.need = this.take(4).readUInt32LE(0);
      }
      if (this.have < this.need) return;
      const payload = this.take(this.need);
      this.need = -1;
      this.onFrame(payload);
    }
  }

  /** Removes n buffered bytes; a view when they sit in one chunk, else one copy. */
  take(n) {
    this.have -= n;
    const first = this.chunks[0];
    if (first && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

export class UdsClient {
  /** @param {net.Socket} socket @param {Codec} codec */
  constructor(socket, codec) {
    this.socket = socket;
    this.codec = codec;
    /** @type {{ resolve(v: unknown): void, reject(e: Error): void }[]} calls awaiting answers, oldest first */
    this.pending = [];
    this.head = 0;
    this.corked = false;
    /** @type {Error | null} */
    this.closed = null;
    const parser = new FrameParser((payload) => this.#answer(payload));
    socket.on('data', (chunk) => parser.push(chunk));
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(new Error('UDS connection closed')));
  }

  /** Calls in flight (sent, not yet answered). */
  get inFlight() {
    return this.pending.length - this.head;
  }

  /**
   * Sends one request; resolves with the decoded answer. Calls made in the same
   * tick leave in one write.
   * @param {unknown} req
   * @returns {Promise<unknown>}
   */
  call(req) {
    if (this.closed) return Promise.reject(this.closed);
    let payload;
    try {
      payload = this.codec.encode(req);
    } catch (err) {
      return Promise.reject(err);
    }
    const n = payload.length;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    if (n <= COPY_MAX) {
      const frame = Buffer.allocUnsafe(4 + n);
      frame.writeUInt32LE(n, 0);
      frame.set(payload, 4);
      this.socket.write(frame);
    } else {
      const header = Buffer.allocUnsafe(4);
      header.writeUInt32LE(n, 0);
      this.socket.write(header);
      this.socket.write(payload);
    }
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  /** Closes the connection after the calls in flight are answered. */
  async close() {
    if (this.closed) return;
    while (this.inFlight > 0 && !this.closed) await new Promise((r) => setImmediate(r));
    if (this.closed) return;
    await new Promise((resolve) => {
      this.socket.once('close', resolve);
      this.socket.end();
    });
  }

  /** @param {Buffer} payload */
  #answer(payload) {
    const call = this.pending[this.head];
    if (!call) {
      this.#fail(new Error('UDS server sent an answer nobody asked for'));
      return;
    }
    this.pending[this.head++] = undefined;
    // Compact the queue now and then instead of shifting on every answer.
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    let value;
    try {
      value = this.codec.decode(payload);
    } catch (err) {
      call.reject(/** @type {Error} */ (err));
      return;
    }
    call.resolve(value);
  }

  /** @param {Error} err */
  #fail(err) {
    if (!this.closed) this.closed = err;
    const waiting = this.pending.slice(this.head);
    this.pending = [];
    this.head = 0;
    for (const call of waiting) call.reject(err);
    this.socket.destroy();
  }
}

/**
 * Opens a persistent connection to a UDS frame server.
 * @param {string} socketPath
 * @param {{ codec?: keyof typeof codecs | Codec }} [opts]
 * @returns {Promise<UdsClient>}
 */
export function connectUds(socketPath, opts = {}) {
  const codec = typeof opts.codec === 'object' ? opts.codec : codecs[opts.codec ?? 'raw'];
  if (!codec) return Promise.reject(new Error(`unknown codec ${String(opts.codec)}`));
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(new UdsClient(socket, codec));
    });
  });
}
