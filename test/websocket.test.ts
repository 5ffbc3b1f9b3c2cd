// tresty/websocket (resty.websocket.server's shape) on both engines, against a websocket client
// written here (Node 20 has none built in): the handshake and its refusals, text and binary both
// ways, ping/pong, fragmentation, the payload limit, unmasked frames, the close handshake.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

interface Frame { fin: boolean; op: number; data: Buffer }

/** A minimal websocket client: masked frames out, frames in (unmasked, as a server sends). */
class Client {
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

// The echo server: every frame comes back described as `type|err|data` in a text frame (data as
// hex for bytes); a close is answered with a close; `max_payload_len` 1000.
const ECHO = `
  const { server } = await import('tresty/websocket');
  const [wb, err] = await server.new(ngx, { timeout: 5000, max_payload_len: 1000 });
  if (!wb) { ngx.status = 400; ngx.say('no websocket: ', err); return; }
  for (;;) {
    const [data, typ, e] = await wb.recv_frame();
    if (data === null) { await wb.send_text('error|' + e); break; }
    const shown = typeof data === 'string' ? data : data.toString('hex');
    if (typ === 'close') { await wb.send_close(1000, 'bye ' + e + ' ' + shown); const r = await wb.send_text('late'); ngx.log(ngx.ERR, 'after close [', r[1], ']'); break; }
    if (typ === 'ping') { await wb.send_pong(data); continue; }
    await wb.send_text(typ + '|' + (e ?? 'nil') + '|' + shown);
    if (typ === 'binary') await wb.send_binary(data);
  }`;

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'tresty/websocket'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    location = /ws { content_by_js_block { ${ECHO} } }
    location = /hello { content_by_js_block { ngx.say('hello'); } }
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });

    it('the handshake: 101 with the accept key and the first protocol asked for', async () => {
      const { c, key } = await Client.open(port, '/ws', { 'Sec-WebSocket-Protocol': 'chat, superchat' });
      expect(c.head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      expect(c.head).toContain(`\r\nSec-WebSocket-Accept: ${accept}`);
      expect(c.head).toContain('\r\nUpgrade: websocket');
      expect(c.head).toContain('\r\nSec-WebSocket-Protocol: chat');
      expect(c.head).toMatch(/\r\nConnection: upgrade/i);
      c.end();
    });

    it('refused handshakes: no 101, the handler answers 400 with the reason', async () => {
      const base: Record<string, string> = { Host: 'h', Upgrade: 'websocket', Connection: 'close', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' };
      for (const [h, why] of [
        [{ Upgrade: null }, 'bad "upgrade" request header: nil'],
        [{ Upgrade: 'h2c' }, 'bad "upgrade" request header: h2c'],
        [{}, 'bad "connection" request header: close'],
        [{ Connection: 'upgrade, close', 'Sec-WebSocket-Key': null }, 'bad "sec-websocket-key" request header'],
        [{ Connection: 'upgrade, close', 'Sec-WebSocket-Version': '8' }, 'bad "sec-websocket-version" request header: 8'],
      ] as const) {
        const all: Record<string, string | null> = { ...base, ...h };
        const head = Object.entries(all).filter(([, v]) => v !== null).map(([k, v]) => `${k}: ${v}\r\n`).join('');
        const r = await raw(port, [`GET /ws HTTP/1.1\r\n${head}\r\n`], { timeoutMs: 5000 });
        expect(r.data).toMatch(/^HTTP\/1\.1 400 /);
        expect(r.data).toContain(`no websocket: ${why}\n`);
      }
    });

    it('text and binary both ways, ping/pong, fragments ("again"), then the close handshake', async () => {
      const { c } = await Client.open(port, '/ws');
      c.send(true, 0x1, 'héllo');
      expect(await c.text()).toBe(`1:text|nil|${Buffer.from('héllo').toString('latin1')}`);
      const bin = Buffer.from([0, 1, 2, 255]);
      c.send(true, 0x2, bin);
      expect(await c.text()).toBe('1:binary|nil|000102ff');
      const back = await c.frame();
      expect(back?.op).toBe(0x2);
      expect(back?.data.equals(bin)).toBe(true);
      c.send(true, 0x9, 'p1');
      expect(await c.text()).toBe('10:p1');
      c.send(false, 0x1, 'par');
      c.send(true, 0x0, 'ts');
      expect(await c.text()).toBe('1:text|again|par');
      expect(await c.text()).toBe('1:continuation|nil|7473');
      const big = Buffer.alloc(900, 0x62);
      c.send(true, 0x1, big);
      expect(await c.text()).toBe(`1:text|nil|${'b'.repeat(900)}`);
      c.send(true, 0x8, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('done')]));
      const close = await c.frame();
      expect(close?.op).toBe(0x8);
      expect(close?.data.readUInt16BE(0)).toBe(1000);
      expect(close?.data.subarray(2).toString()).toBe('bye 1000 done');
      expect(await c.ended()).toBe(true);
      expect(t.errorLog()).toContain('after close [already closed]');
    });

    it('a payload over max_payload_len, an unmasked frame, a fragmented ping: recv_frame\'s errors', async () => {
      for (const [send, why] of [
        [(c: Client) => c.send(true, 0x1, Buffer.alloc(1001, 0x61)), 'exceeding max payload len'],
        [(c: Client) => c.send(true, 0x1, 'x', false), 'frame unmasked'],
        [(c: Client) => c.send(false, 0x9, 'x'), 'fragmented control frame'],
        [(c: Client) => c.send(true, 0x3, 'x'), 'reserved non-control frames'],
      ] as const) {
        const { c } = await Client.open(port, '/ws');
        send(c);
        expect(await c.text()).toBe(`1:error|${why}`);
        expect(await c.ended()).toBe(true);
      }
    });

    it('the client gone mid-frame: recv_frame fails, the worker serves the next request', async () => {
      const { c } = await Client.open(port, '/ws');
      c.send(true, 0x1, 'abc');
      expect(await c.text()).toBe('1:text|nil|abc');
      c.end();
      expect(await c.ended()).toBe(true);
      const r = await raw(port, ['GET /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'], { timeoutMs: 5000 });
      expect(r.data).toContain('hello\n');
    });

    it('a frame with a 2-byte length, echoed as binary', async () => {
      const { c } = await Client.open(port, '/ws');
      c.send(true, 0x2, Buffer.alloc(1000, 7));
      expect((await c.text()).slice(0, 14)).toBe('1:binary|nil|0');
      const f = await c.frame();
      expect(f?.data.length).toBe(1000);
      c.end();
    });
  });
}
