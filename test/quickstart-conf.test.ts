// The README's quick start serves conf/nginx.conf as shipped: this starts the real tresty on that
// file (only its port and the runtimes' path made absolute) and checks the locations the README
// shows, including a request body past nginx's 8k client_body_buffer_size, which the conf keeps in
// memory so that get_body_data() sees it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { Client } from './helpers/ws-client.js';

const root = path.resolve(import.meta.dirname, '..');
const built = fs.existsSync(path.join(root, 'native/build/libecho_c.so')) && fs.existsSync(path.join(root, 'native/build/libsha256_c.so'));

describe.skipIf(!built)(`conf/nginx.conf as shipped${built ? '' : ' (skipped: native/build has no echo_c / sha256_c: run npm install)'}`, () => {
  let t: TrestyProcess;
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
    const conf = fs.readFileSync(path.join(root, 'conf/nginx.conf'), 'utf8')
      .replace(/listen 8080;/, `listen 127.0.0.1:${port};`)
      .replace(/ffi_library_path native\/build;/, `ffi_library_path ${path.join(root, 'native/build')};`);
    expect(conf).toContain(`listen 127.0.0.1:${port};`);
    t = await startTresty(conf, { files: { 'conf/mime.types': fs.readFileSync(path.join(root, 'conf/mime.types'), 'utf8') } });
  }, 30_000);
  afterAll(async () => { await t?.stop(); });

  const post = async (p: string, body: string): Promise<string> => {
    const r = await fetch(`http://127.0.0.1:${port}${p}`, { method: 'POST', body });
    expect(r.status).toBe(200);
    return r.text();
  };

  it('/ answers, and /echo goes through the C runtime', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/`);
    expect(r.status).toBe(200);
    expect(await r.text()).toMatch(/^hello from tresty, worker \d of \d/);
    expect(await post('/echo', 'ping')).toBe('ping');
  });

  it('a 200 KB body is echoed and hashed whole (kept in memory, not in a temp file)', async () => {
    const body = 'z'.repeat(200 * 1024);
    expect(await post('/echo', body)).toBe(body);
    expect((await post('/sha256', body)).trim()).toBe(crypto.createHash('sha256').update(body).digest('hex'));
  });

  it('/ws echoes websocket frames, answers a ping and closes on a close', async () => {
    const { c, key } = await Client.open(port, '/ws');
    expect(c.head).toMatch(/^HTTP\/1\.1 101 /);
    const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    expect(c.head).toContain(`Sec-WebSocket-Accept: ${accept}`);
    c.send(true, 0x1, 'hello websocket');
    expect(await c.text()).toBe('1:hello websocket');
    c.send(true, 0x2, Buffer.from([0, 1, 2, 255]));
    const f = await c.frame();
    expect([f?.op, f?.data.toString('hex')]).toEqual([0x2, '000102ff']);
    c.send(true, 0x9, 'p');
    expect(await c.text()).toBe('10:p');
    c.send(true, 0x8, Buffer.from([0x03, 0xe8]));
    expect(await c.text()).toBe(`8:${Buffer.from([0x03, 0xe8]).toString('latin1')}bye`);
    expect(await c.ended()).toBe(true);
  });
});
