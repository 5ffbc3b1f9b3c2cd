// Upstream sockets owned by the native engine (native/engine/upstream.h): plain byte pipes in the
// engine's epoll whose reads arrive as records of the engine's batch, so a proxied answer is made
// inside the engine's pass and leaves in its flush (issue 14). EngineSocket offers the part of
// net.Socket that src/proxy/conn.ts uses; all protocol logic stays there.
import { EventEmitter } from 'node:events';
import { getSystemErrorName } from 'node:util';
import type { EngineBinding } from './native-binding.js';
import { DATA, DATA_LEN, IN_UP_CONNECT, IN_UP_DATA, IN_UP_DRAIN, IN_UP_EOF, IN_UP_ERROR, REC_A, REC_B } from './native-layout.js';

const SLOT_MASK = 0xffffff;
/** write() says "wait for drain" above this many queued bytes (net.Socket's highWaterMark). */
const HIGH_WATER = 16 * 1024;
const PHASE = ['', 'connect', 'write', 'read'];

let native: EngineBinding | null = null;
const socks: Array<EngineSocket | undefined> = [];

/**
 * Called by the native front when it starts: proxied plain-http upstreams then use the engine's
 * sockets, unless TRESTY_PROXY_TRANSPORT=net asks for node:net.
 */
export function enableEngineSockets(b: EngineBinding): void {
  native = process.env.TRESTY_PROXY_TRANSPORT === 'net' ? null : b;
}

/** Whether the engine's sockets can carry a connection (the front is the native engine). */
export function engineSocketsOn(): boolean {
  return native !== null;
}

/** Upstream sockets open in the engine (tests: a connection freed is closed there). */
export function engineSocketCount(): number {
  return native?.upCount() ?? 0;
}

function sysError(errno: number, phase: number): NodeJS.ErrnoException {
  let code = 'EIO';
  try {
    code = getSystemErrorName(-errno);
  } catch { /* an errno node does not name */ }
  const e: NodeJS.ErrnoException = new Error(`${PHASE[phase] ?? 'io'} ${code}`);
  e.code = code;
  e.errno = -errno;
  e.syscall = PHASE[phase];
  return e;
}

export class EngineSocket extends EventEmitter {
  destroyed = false;
  /** Bytes read, handed on during the batch call only (a view of the engine's inbox). */
  ondata: ((b: Buffer) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timeoutMs = 0;
  private refd = true;

  private constructor(private readonly b: EngineBinding, readonly id: number) {
    super();
  }

  /** A connect to ip:port (numeric), or to a unix socket's path: 'connect' or 'error' follows. */
  static connect(ip: string, port: number): EngineSocket {
    const b = native!;
    const id = b.upConnect(ip, port);
    const s = new EngineSocket(b, id < 0 ? -1 : id);
    if (id < 0) {
      s.destroyed = true;
      process.nextTick(() => {
        s.emit('error', sysError(-id, 1));
        s.emit('close');
      });
    } else {
      socks[id & SLOT_MASK] = s;
    }
    return s;
  }

  write(data: string | Uint8Array): boolean {
    if (this.destroyed) return false;
    this.timer?.refresh();
    const q = this.b.upWrite(this.id, data);
    return q >= 0 && q < HIGH_WATER;
  }

  pause(): this {
    if (!this.destroyed) this.b.upPause(this.id, true);
    return this;
  }

  resume(): this {
    if (!this.destroyed) this.b.upPause(this.id, false);
    return this;
  }

  /** The inactivity limit, as net.Socket.setTimeout: reads and writes restart it; 0: none. */
  setTimeout(ms: number): this {
    this.timeoutMs = ms;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (ms > 0 && !this.destroyed) {
      this.timer = setTimeout(this.fire, ms);
      if (!this.refd) this.timer.unref();
    }
    return this;
  }

  private readonly fire = (): void => {
    this.timer = null;
    if (!this.destroyed) this.emit('timeout');
  };

  ref(): this {
    this.refd = true;
    this.timer?.ref();
    return this;
  }

  unref(): this {
    this.refd = false;
    this.timer?.unref();
    return this;
  }

  setNoDelay(): this { return this; } // the engine sets TCP_NODELAY on every upstream socket

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.b.upClose(this.id);
    if (socks[this.id & SLOT_MASK] === this) socks[this.id & SLOT_MASK] = undefined;
    process.nextTick(() => this.emit('close'));
    return this;
  }

  /** One record of the engine's batch for this socket. */
  record(type: number, buf: Buffer, u32: Uint32Array, u16: Uint16Array, p: number): void {
    switch (type) {
      case IN_UP_CONNECT: this.emit('connect'); break;
      case IN_UP_DATA: {
        if (this.timeoutMs > 0) this.timer?.refresh();
        const n = u32[(p + DATA_LEN) >>> 2]!;
        this.ondata?.(buf.subarray(p + DATA, p + DATA + n));
        break;
      }
      case IN_UP_EOF:
        this.emit('end');
        this.destroy();
        break;
      case IN_UP_ERROR:
        this.emit('error', sysError(u16[(p + REC_B) >>> 1]!, buf[p + REC_A]!));
        this.destroy();
        break;
      case IN_UP_DRAIN: this.emit('drain'); break;
      default:
    }
  }
}

/** Routes an upstream record of the batch (types IN_UP_*) to its socket; a closed one's are dropped. */
export function upstreamRecord(type: number, id: number, buf: Buffer, u32: Uint32Array, u16: Uint16Array, p: number): void {
  const s = socks[id & SLOT_MASK];
  if (s !== undefined && s.id === id && !s.destroyed) s.record(type, buf, u32, u16, p);
}
