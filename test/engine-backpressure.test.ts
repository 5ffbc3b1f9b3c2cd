// Back-pressure through the native engine: a handler that writes a large answer with
// `await ngx.flush(true)` between chunks waits while the client does not read (the engine holds
// at most a bounded amount), and goes on when it reads again; the whole answer arrives intact.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_BUILT } from './helpers/engine.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

const CHUNKS = 64;
const CHUNK = 1024 * 1024;

describe.skipIf(!ENGINE_BUILT)(`back-pressure on the native engine${ENGINE_BUILT ? '' : ' (skipped: the native engine is not built)'}`, () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(`
worker_processes 1;
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    location = /big {
      content_by_js_block {
        const chunk = "x".repeat(${CHUNK});
        globalThis.written = 0;
        for (let i = 0; i < ${CHUNKS}; i++) {
          ngx.print(chunk);
          await ngx.flush(true);
          globalThis.written++;
        }
      }
    }
    location = /progress { content_by_js_block { ngx.say(globalThis.written ?? -1); } }
  }
}
`);
  });
  afterAll(async () => { await t?.stop(); });

  it('ngx.flush(true) waits for a client that does not read, and the answer arrives whole', async () => {
    const s = net.connect(port, '127.0.0.1');
    s.pause(); // read nothing for now
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    s.write('GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await new Promise((r) => setTimeout(r, 1500));
    const stalled = Number((await httpGet(port, '/progress')).body);
    // The socket buffers take a few MB; the handler must not have produced the 64 MB.
    expect(stalled).toBeGreaterThanOrEqual(0);
    expect(stalled).toBeLessThan(CHUNKS / 2);
    let bytes = 0;
    const done = new Promise<void>((resolve) => s.on('end', () => resolve()));
    s.on('data', (d: Buffer) => { bytes += d.length; });
    s.resume();
    await done;
    expect(Number((await httpGet(port, '/progress')).body)).toBe(CHUNKS);
    expect(bytes).toBeGreaterThan(CHUNKS * CHUNK); // the body (chunked) and the head
    s.destroy();
  }, 60_000);
});
