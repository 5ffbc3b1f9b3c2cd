// ngx.socket.udp: OpenResty's UDP cosocket over node:dgram. setpeername connects the datagram
// socket (the kernel then filters other senders out and reports ICMP refusals), send writes one
// datagram, receive waits for one. Datagrams that arrive while nobody receives are queued (a
// few, as the kernel's buffer would hold them).

import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { Call } from '../request/call.js';
import { argErr, sendChunks, timeoutArg, typeName } from './socket-args.js';
import { errText } from './socket-conn.js';
import { SocketOwner } from './socket-owner.js';
import type { Data } from './socket-until.js';
import { resolveHost } from '../request/resolver.js';

/** lua_socket_read_timeout's default (ms). */
const DEFAULT_READ_MS = 60_000;
/** OpenResty's receive buffer: a larger size is cut to this. */
const MAX_DATAGRAM = 8192;
/** Datagrams kept for a later receive; older ones are dropped first. */
const QUEUE_MAX = 64;

export class UdpSocket {
  readonly #owner: SocketOwner;
  readonly #binary: boolean;
  #s: dgram.Socket | null = null;
  #queue: Buffer[] = [];
  #error: string | null = null;
  #wake: (() => void) | null = null;
  #readMs = 0;

  /** @internal */
  constructor(call: Call, opts?: { binary?: boolean }) {
    this.#owner = new SocketOwner(call, () => this.#drop());
    this.#binary = opts?.binary === true;
  }

  #drop(): void {
    const s = this.#s;
    this.#s = null;
    this.#queue = [];
    this.#error = null;
    if (s !== null) { try { s.close(); } catch { /* already closed */ } }
    this.#signal();
  }

  #signal(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** setpeername(host, port): [true, null] or [null, err]. Names go through the system resolver. */
  async setpeername(host: string, port?: number): Promise<[true, null] | [null, string]> {
    this.#owner.check();
    if (typeof host !== 'string') throw argErr(`bad argument #1 to 'setpeername' (string expected, got ${typeName(host)})`);
    if (host.startsWith('unix:')) return [null, 'unix datagram sockets are not supported'];
    if (typeof port !== 'number' || !Number.isInteger(port)) throw argErr(`bad argument #2 to 'setpeername' (number expected, got ${typeName(port)})`);
    if (port < 0 || port > 65535) throw argErr(`bad port number: ${port}`);
    this.#drop();
    let address = host;
    const r = this.#owner.req;
    if (net.isIP(host) === 0 && r?.loc?.resolver) {
      const a = await resolveHost(r.loc.resolver, r.loc.resolverTimeout, host, r.w.errorLog);
      if (typeof a !== 'string') return [null, a.error];
      address = a;
      if (this.#owner.dead) return [null, 'closed'];
    } else if (net.isIP(host) === 0) {
      try {
        address = (await lookup(host)).address;
      } catch (e) {
        return [null, errText(e, host)];
      }
      if (this.#owner.dead) return [null, 'closed'];
    }
    const s = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    s.on('message', (m: Buffer) => {
      if (this.#queue.length >= QUEUE_MAX) this.#queue.shift();
      this.#queue.push(m);
      this.#signal();
    });
    s.on('error', (e) => { this.#error = errText(e); this.#signal(); });
    const err = await new Promise<string | null>((resolve) => {
      s.once('error', (e) => resolve(errText(e)));
      s.connect(port, address, () => resolve(null));
    });
    if (err !== null || this.#owner.dead) {
      try { s.close(); } catch { /* never bound */ }
      return [null, err ?? 'closed'];
    }
    this.#error = null;
    this.#s = s;
    return [true, null];
  }

  /** Sends one datagram: [true, null] or [null, err]. */
  send(data: unknown): Promise<[true, null] | [null, string]> {
    this.#owner.check();
    const parts: Buffer[] = [];
    sendChunks(data, parts);
    const s = this.#s;
    if (s === null) return Promise.resolve([null, 'closed']);
    return new Promise((resolve) => {
      s.send(parts, (e) => resolve(e ? [null, errText(e)] : [true, null]));
    });
  }

  /** Waits for one datagram (cut to `size`, at most 8192 bytes): [data, null] or [null, err]. */
  async receive(size?: number): Promise<[Data, null] | [null, string]> {
    this.#owner.check();
    if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < 0)) {
      throw argErr(`bad argument #1 to 'receive' (bad size: ${String(size)})`);
    }
    const max = Math.min(size ?? MAX_DATAGRAM, MAX_DATAGRAM);
    const s = this.#s;
    if (s === null) return [null, 'closed'];
    if (this.#wake !== null) return [null, 'socket busy reading'];
    for (;;) {
      const m = this.#queue.shift();
      if (m !== undefined) {
        const b = m.length > max ? m.subarray(0, max) : m;
        return [this.#binary ? b : b.toString('utf8'), null];
      }
      if (this.#error !== null) {
        const e = this.#error;
        this.#error = null;
        return [null, e];
      }
      const got = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => { this.#wake = null; resolve(false); }, this.#readMs || DEFAULT_READ_MS);
        this.#wake = () => { clearTimeout(t); resolve(true); };
      });
      if (!got) return [null, 'timeout'];
      if (this.#s !== s) return [null, 'closed'];
    }
  }

  /** [true, null], or [null, 'closed'] without a peer set. */
  close(): [true, null] | [null, string] {
    this.#owner.check();
    if (this.#s === null) return [null, 'closed'];
    this.#drop();
    return [true, null];
  }

  /** The receive timeout in ms (0: the 60 s default). */
  settimeout(ms: number): void {
    this.#owner.check();
    this.#readMs = timeoutArg('settimeout', ms);
  }
}
