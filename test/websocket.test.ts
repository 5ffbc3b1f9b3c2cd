// tresty/websocket (resty.websocket.server's shape) on both engines, against a websocket client
// written for the tests (test/helpers/ws-client.ts): the handshake and its refusals, text and
// binary both ways, ping/pong, fragmentation, the payload limit, unmasked frames, the close handshake.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { Client } from './helpers/ws-client.js';

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
