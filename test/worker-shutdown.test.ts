// worker_shutdown_timeout on a graceful stop (reload): the old worker tells its handlers it is
// exiting (ngx.worker.exiting()), finishes what ends by itself, and after TIME cuts what is left
// (a websocket, a long request), logs it and exits. Without it, the old worker waits for them, as
// nginx waits forever.
import { afterAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, httpGet, startTresty, stopAll } from './helpers/server.js';
import { Client } from './helpers/ws-client.js';

afterAll(stopAll);

const conf = (port: number, timeout: string): string => `worker_processes 1;
${timeout}
error_log logs/error.log notice;
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    location = /ws {
      content_by_js_block {
        const { server } = await import('tresty/websocket');
        const [wb] = await server.new(ngx, { timeout: 60000 });
        for (;;) {
          const [data, typ] = await wb.recv_frame();
          if (data === null || typ === 'close') break;
          await wb.send_text(data === 'exiting?' ? String(ngx.worker.exiting()) : data);
        }
      }
    }
    location = /slow { content_by_js_block { await ngx.sleep(30); ngx.say("late") } }
    location = /pid { content_by_js_block { ngx.say(ngx.worker.pid()) } }
  }
}`;

async function ask(c: Client, text: string): Promise<string | null> {
  c.send(true, 1, text);
  const f = await c.frame();
  return f ? f.data.toString() : null;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

describe('worker_shutdown_timeout', () => {
  for (const e of ENGINES) {
    it.skipIf(e.skip)(titled(e, 'a reload cuts a websocket and a long request after TIME; the handler saw ngx.worker.exiting()'), async () => {
      const port = await freePort();
      const t = await startTresty(conf(port, 'worker_shutdown_timeout 1500ms;'), { env: e.env });
      const oldPid = Number((await httpGet(port, '/pid')).body);
      const { c } = await Client.open(port, '/ws');
      expect(await ask(c, 'exiting?')).toBe('false');
      const slow = httpGet(port, '/slow', { timeoutMs: 20_000 }).then(() => 'answered', (err: Error) => `cut: ${err.message}`);
      await new Promise((r) => setTimeout(r, 200));
      const reloaded = t.waitFor((ev) => ev.tresty === 'reloaded', { timeoutMs: 20_000 });
      expect((await t.cli(['-s', 'reload'])).code).toBe(0);
      await reloaded;
      // The old worker still serves its websocket, and says it is exiting.
      expect(await ask(c, 'exiting?')).toBe('true');
      const t0 = Date.now();
      expect(await c.frame()).toBeNull(); // closed by the old worker
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(await slow).toMatch(/^cut/);
      for (let i = 0; i < 100 && alive(oldPid); i++) await new Promise((r) => setTimeout(r, 50));
      expect(alive(oldPid)).toBe(false);
      expect(t.errorLog()).toMatch(/\[notice\] .*worker_shutdown_timeout 1500ms expired, closing the connections left/);
      // The new worker serves.
      expect(Number((await httpGet(port, '/pid')).body)).not.toBe(oldPid);
      await t.stop();
    }, 60_000);

    it.skipIf(e.skip)(titled(e, '-s quit with an open websocket: the master is gone soon after TIME'), async () => {
      const port = await freePort();
      const t = await startTresty(conf(port, 'worker_shutdown_timeout 1s;'), { env: e.env });
      const { c } = await Client.open(port, '/ws');
      expect(await ask(c, 'x')).toBe('x');
      const t0 = Date.now();
      expect((await t.cli(['-s', 'quit'])).code).toBe(0);
      expect(await c.frame()).toBeNull();
      await t.exited;
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
      expect(Date.now() - t0).toBeLessThan(15_000);
    }, 60_000);

    it.skipIf(e.skip)(titled(e, 'without it, the old worker keeps a websocket open past a reload until the client leaves'), async () => {
      const port = await freePort();
      const t = await startTresty(conf(port, ''), { env: e.env });
      const oldPid = Number((await httpGet(port, '/pid')).body);
      const { c } = await Client.open(port, '/ws');
      expect(await ask(c, 'x')).toBe('x');
      const reloaded = t.waitFor((ev) => ev.tresty === 'reloaded', { timeoutMs: 20_000 });
      expect((await t.cli(['-s', 'reload'])).code).toBe(0);
      await reloaded;
      await new Promise((r) => setTimeout(r, 2500));
      expect(await ask(c, 'exiting?')).toBe('true');
      expect(alive(oldPid)).toBe(true);
      c.send(true, 8, Buffer.alloc(0)); // close
      await c.frame();
      for (let i = 0; i < 100 && alive(oldPid); i++) await new Promise((r) => setTimeout(r, 50));
      expect(alive(oldPid)).toBe(false);
      await t.stop();
    }, 60_000);
  }
});
