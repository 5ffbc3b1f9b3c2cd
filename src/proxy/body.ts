// The request body as the proxy sends it. With proxy_request_buffering on (nginx's default) the
// body is read whole before the upstream is contacted: in memory up to client_body_buffer_size,
// else in a temp file (opened, then unlinked at once) so a 1 GB upload costs no memory and can
// be sent again to the next server. With it off, the body streams to the upstream as it
// arrives, with back-pressure both ways; then it cannot be sent twice.

import fs from 'node:fs';
import path from 'node:path';
import { isTrestyError, TrestyError } from '../errors.js';
import type { UpstreamConn } from './conn.js';

/** The body grew past client_max_body_size (the proxy answers 413). */
export class BodyTooLarge {
  constructor(readonly size: number) {}
}

export interface BodySource {
  /** Bytes, or -1 when unknown (then it is sent chunked). */
  readonly length: number;
  /** Can be sent again, to the next server. */
  readonly replayable: boolean;
  /** Writes the body (chunk framing when `chunked`); rejects when the client stream fails. */
  send(conn: UpstreamConn, chunked: boolean): Promise<void>;
  /** Bytes written by the last send (for $upstream_bytes_sent). */
  readonly sent: number;
  close(): void;
}

const CHUNK = 64 * 1024;

export class MemoryBody implements BodySource {
  readonly replayable = true;
  sent = 0;
  constructor(readonly data: Buffer) {}
  get length(): number { return this.data.length; }
  async send(conn: UpstreamConn): Promise<void> {
    this.sent = this.data.length;
    if (this.data.length > 0) await conn.write(this.data);
  }
  close(): void { /* nothing held */ }
}

class FileBody implements BodySource {
  readonly replayable = true;
  sent = 0;
  constructor(private readonly fh: fs.promises.FileHandle, readonly length: number) {}
  async send(conn: UpstreamConn): Promise<void> {
    this.sent = 0;
    for (let pos = 0; pos < this.length;) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, this.length - pos));
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      this.sent += bytesRead;
      const p = conn.write(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      if (p) await p;
    }
  }
  close(): void { void this.fh.close().catch(() => undefined); }
}

/** Pulls the client's body, counting it against client_max_body_size. */
async function* counted(src: AsyncIterable<Uint8Array>, limit: number): AsyncGenerator<Uint8Array> {
  let size = 0;
  const it = src[Symbol.asyncIterator]();
  for (;;) {
    let step: IteratorResult<Uint8Array>;
    try {
      step = await it.next();
    } catch (e) {
      // The HTTP layer stops a chunked body past the limit with this code.
      if (isTrestyError(e) && e.code === 'TRESTY_ERR_BODY_TOO_LARGE') throw new BodyTooLarge(size);
      throw e;
    }
    if (step.done) return;
    size += step.value.byteLength;
    if (limit > 0 && size > limit) throw new BodyTooLarge(size);
    yield step.value;
  }
}

class StreamBody implements BodySource {
  readonly replayable = false;
  sent = 0;
  private used = false;
  constructor(private readonly src: AsyncIterable<Uint8Array>, readonly length: number) {}
  async send(conn: UpstreamConn, chunked: boolean): Promise<void> {
    if (this.used) throw new Error('a streamed request body cannot be sent twice');
    this.used = true;
    for await (const c of this.src) {
      if (c.byteLength === 0) continue;
      this.sent += c.byteLength;
      const p = chunked ? conn.write(frame(c)) : conn.write(c);
      if (p) await p;
    }
    if (chunked) await conn.write('0\r\n\r\n');
  }
  close(): void { /* the client stream ends with the request */ }
}

function frame(c: Uint8Array): Buffer {
  const head = Buffer.from(`${c.byteLength.toString(16)}\r\n`, 'latin1');
  return Buffer.concat([head, c, CRLF]);
}
const CRLF = Buffer.from('\r\n');

let tempSerial = 0;

/** Reads the whole body: memory up to `inMemory` bytes, else a temp file under `tempDir`. */
export async function bufferBody(src: AsyncIterable<Uint8Array>, limit: number, inMemory: number, tempDir: string): Promise<BodySource> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let fh: fs.promises.FileHandle | null = null;
  try {
    for await (const c of counted(src, limit)) {
      size += c.byteLength;
      if (fh === null) {
        chunks.push(c);
        if (size <= inMemory) continue;
        fh = await openTemp(tempDir);
        for (const x of chunks.splice(0)) await fh.write(x);
        continue;
      }
      await fh.write(c);
    }
  } catch (e) {
    if (fh) await fh.close().catch(() => undefined);
    throw e;
  }
  if (fh !== null) return new FileBody(fh, size);
  return new MemoryBody(chunks.length === 1 ? Buffer.from(chunks[0]!.buffer, chunks[0]!.byteOffset, chunks[0]!.byteLength) : Buffer.concat(chunks));
}

/** Reads the whole body into `write` (client_body_in_file_only: the request's own file); its size. */
export async function drainBody(src: AsyncIterable<Uint8Array>, limit: number, write: (c: Uint8Array) => void): Promise<number> {
  let size = 0;
  for await (const c of counted(src, limit)) {
    size += c.byteLength;
    write(c);
  }
  return size;
}

/** The body of a file the request keeps (the request removes it when it ends, not the proxy). */
export async function fileBody(file: string, size: number): Promise<BodySource> {
  try {
    return new FileBody(await fs.promises.open(file, 'r'), size);
  } catch (e) {
    throw new TrestyError('TRESTY_ERR_BODY_FILE', `open() "${file}" failed (${(e as Error).message})`);
  }
}

/** nginx's client_body_temp: the file is unlinked once open, so nothing is left behind. */
async function openTemp(dir: string): Promise<fs.promises.FileHandle> {
  await fs.promises.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${process.pid}-${++tempSerial}`);
  const fh = await fs.promises.open(file, 'w+', 0o600);
  await fs.promises.unlink(file);
  return fh;
}

export function streamBody(src: AsyncIterable<Uint8Array>, limit: number, length: number): BodySource {
  return new StreamBody(counted(src, limit), length);
}
