// A minimal websocket client for tests (Node 20 has none built in): masked frames out, frames in
// (unmasked, as a server sends), the handshake with headers a test may replace.
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export interface Frame { fin: boolean; op: number; data: Buffer }

/** A minimal websocket client: masked frames out, frames in (unmasked, as a server sends). */
export class Client {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;
  head = '';

  private constructor(private readonly s: net.Socket) {
    s.on('data', (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    s.on('close', () => { this.closed = true; this.wake(); });
    s.on('error', () => { this.closed = true; this.wake(); });
  }

  private wake(): void { const w = this.waiters; this.waiters = []; for (const f of w) f(); }

  private async need(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) {
      if (this.closed) return null;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    const b = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return b;
  }

  /** Connects and sends the handshake; `headers` replace the usual ones. */
  static async open(port: number, p: string, headers: Record<string, string | null> = {}): Promise<{ c: Client; key: string }> {
    const s = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
    const c = new Client(s);
    const key = randomBytes(16).toString('base64');
    const h: Record<string, string | null> = { Host: 'h', Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13', ...headers };
    s.write(`GET ${p} HTTP/1.1\r\n${Object.entries(h).filter(([, v]) => v !== null).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
    // The head, up to its blank line.
    for (;;) {
      const i = c.buf.indexOf('\r\n\r\n');
      if (i >= 0) { c.head = c.buf.subarray(0, i).toString('latin1'); c.buf = c.buf.subarray(i + 4); break; }
      if (c.closed) break;
      await new Promise<void>((r) => c.waiters.push(r));
    }
    return { c, key };
  }

  send(fin: boolean, op: number, data: string | Buffer, mask = true): void {
    const p = typeof data === 'string' ? Buffer.from(data) : data;
    const n = p.length;
    const ext = n > 0xffff ? 8 : n > 125 ? 2 : 0;
    const h = Buffer.alloc(2 + ext + (mask ? 4 : 0));
    h[0] = (fin ? 0x80 : 0) | op;
    h[1] = (mask ? 0x80 : 0) | (ext === 8 ? 127 : ext === 2 ? 126 : n);
    if (ext === 2) h.writeUInt16BE(n, 2);
    if (ext === 8) h.writeUInt32BE(n, 6);
    const body = Buffer.from(p);
    if (mask) {
      const k = randomBytes(4);
      k.copy(h, 2 + ext);
      for (let i = 0; i < n; i++) body[i]! ^= k[i & 3]!;
    }
    this.s.write(Buffer.concat([h, body]));
  }

  async frame(): Promise<Frame | null> {
    const h = await this.need(2);
    if (h === null) return null;
    let len = h[1]! & 0x7f;
    if (h[1]! & 0x80) throw new Error('a server frame was masked');
    if (len === 126) len = (await this.need(2))!.readUInt16BE(0);
    else if (len === 127) len = (await this.need(8))!.readUInt32BE(4);
    const data = await this.need(len);
    if (data === null) return null;
    return { fin: (h[0]! & 0x80) !== 0, op: h[0]! & 0x0f, data: Buffer.from(data) };
  }

  /** The next frame as text: `op:data`. */
  async text(): Promise<string> {
    const f = await this.frame();
    return f === null ? 'EOF' : `${f.op}:${f.data.toString('latin1')}`;
  }

  async ended(): Promise<boolean> {
    for (let i = 0; i < 250 && !this.closed; i++) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  end(): void { this.s.end(); }
}
