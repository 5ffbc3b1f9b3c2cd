// WebSocket frames (RFC 6455 section 5): read one from a raw request socket, build one to send.
// The checks and their error texts are lua-resty-websocket's, so code ported from it reads the
// same values.
import { randomBytes } from 'node:crypto';
import type { RawReqSocket } from '../api/req-socket-raw.js';

export const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;
const TYPES: Record<number, FrameType> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

export type FrameType = 'continuation' | 'text' | 'binary' | 'close' | 'ping' | 'pong';

/**
 * recv_frame's values: [data, type, err]. data: a string for text and close frames, bytes for the
 * others; for a close frame err is its status code (null without one); "again" for a frame that
 * is not the last of its message; on failure [null, null, reason].
 */
export type FrameResult = [string | Buffer, FrameType, number | 'again' | null] | [null, null, string];

async function bytes(sock: RawReqSocket, n: number, what: string): Promise<Buffer | string> {
  if (n === 0) return Buffer.alloc(0);
  const [d, err] = await sock.receive(n);
  if (d === null) return `failed to receive ${what}: ${err}`;
  return d as Buffer;
}

/** Reads one frame; `maxLen`: the largest payload taken; `masked`: the peer must mask (a client). */
export async function readFrame(sock: RawReqSocket, maxLen: number, masked: boolean): Promise<FrameResult> {
  const h = await bytes(sock, 2, 'the first 2 bytes');
  if (typeof h === 'string') return [null, null, h];
  const fin = (h[0]! & 0x80) !== 0;
  if ((h[0]! & 0x70) !== 0) return [null, null, 'bad RSV1, RSV2, or RSV3 bits'];
  const op = h[0]! & 0x0f;
  if (op >= 0x3 && op <= 0x7) return [null, null, 'reserved non-control frames'];
  if (op >= 0xb) return [null, null, 'reserved control frames'];
  const mask = (h[1]! & 0x80) !== 0;
  if (masked && !mask) return [null, null, 'frame unmasked'];
  let len = h[1]! & 0x7f;
  if (len === 126) {
    const e = await bytes(sock, 2, 'the 2 byte payload length');
    if (typeof e === 'string') return [null, null, e];
    len = e.readUInt16BE(0);
  } else if (len === 127) {
    const e = await bytes(sock, 8, 'the 8 byte payload length');
    if (typeof e === 'string') return [null, null, e];
    if (e.readUInt32BE(0) !== 0) return [null, null, 'payload len too large'];
    len = e.readUInt32BE(4);
  }
  if ((op & 0x8) !== 0) {
    if (len > 125) return [null, null, 'too long payload for control frame'];
    if (!fin) return [null, null, 'fragmented control frame'];
  }
  if (len > maxLen) return [null, null, 'exceeding max payload len'];
  let key: Buffer | null = null;
  if (mask) {
    const k = await bytes(sock, 4, 'the masking key');
    if (typeof k === 'string') return [null, null, k];
    key = k;
  }
  const p = await bytes(sock, len, 'the payload');
  if (typeof p === 'string') return [null, null, p];
  // A copy: the socket's buffer may be a view of memory it reuses.
  const data = Buffer.from(p);
  if (key !== null) for (let i = 0; i < data.length; i++) data[i]! ^= key[i & 3]!;
  const type = TYPES[op]!;
  if (op === OP.close) {
    if (data.length === 0) return ['', 'close', null];
    if (data.length === 1) return [null, null, 'bad close frame: payload of 1 byte'];
    return [data.toString('utf8', 2), 'close', data.readUInt16BE(0)];
  }
  return [op === OP.text ? data.toString('utf8') : data, type, fin ? null : 'again'];
}

/** One frame: `mask` for a client's frames (a random key per frame, as RFC 6455 asks). */
export function buildFrame(fin: boolean, op: number, payload: Uint8Array, mask: boolean): Buffer {
  const n = payload.byteLength;
  const ext = n > 0xffff ? 8 : n > 125 ? 2 : 0;
  const out = Buffer.allocUnsafe(2 + ext + (mask ? 4 : 0) + n);
  out[0] = (fin ? 0x80 : 0) | op;
  out[1] = (mask ? 0x80 : 0) | (ext === 8 ? 127 : ext === 2 ? 126 : n);
  let p = 2;
  if (ext === 2) out.writeUInt16BE(n, 2);
  if (ext === 8) { out.writeUInt32BE(Math.floor(n / 0x100000000), 2); out.writeUInt32BE(n >>> 0, 6); }
  p += ext;
  if (!mask) {
    out.set(payload, p);
    return out;
  }
  const key = randomBytes(4);
  key.copy(out, p);
  p += 4;
  for (let i = 0; i < n; i++) out[p + i] = payload[i]! ^ key[i & 3]!;
  return out;
}
