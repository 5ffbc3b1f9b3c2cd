// Answers a handler makes in a later loop turn than its request's (after an immediate, a timer, a
// file read's callback, in a light thread). The native engine writes those with the pass it asks
// for in the next turn, once for every answer made until then, rather than with a flush per
// callback (src/http/native-outbox.ts): each must still go out on an otherwise idle server (no
// other request to wake the loop), in order behind pipelined ones, with keep-alive, an exit, a
// throw's 500 and its log line. Both engines give the same answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, statuses } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';

/** The awaits each location's handler makes before it answers. */
const LATER: Record<string, string> = {
  imm: 'await new Promise((r) => setImmediate(r));',
  timer: 'await new Promise((r) => setTimeout(r, 2));',
  file: 'await new Promise((r) => require("node:fs").stat("/", r));',
  twice: 'await new Promise((r) => setImmediate(r)); await new Promise((r) => setTimeout(r, 1));',
};

function conf(port: number): string {
  const later = Object.entries(LATER).map(([name, wait]) => `
    location = /${name} {
      content_by_js_block { ${wait} ngx.say("${name} ", ngx.var.arg_n ?? ""); }
    }`).join('');
  return `worker_processes 1;
events {}
http {
  server {
    listen 127.0.0.1:${port};
    keepalive_requests 1000;${later}
    location = /parts {
      content_by_js_block {
        ngx.print("a");
        await ngx.flush(true);
        await new Promise((r) => setImmediate(r));
        ngx.print("b");
        await new Promise((r) => setTimeout(r, 1));
        ngx.say("c");
      }
    }
    location = /thread {
      content_by_js_block {
        const t = ngx.thread.spawn(async () => { await new Promise((r) => setImmediate(r)); ngx.say("thread"); });
        await ngx.thread.wait(t);
      }
    }
    location = /exit {
      content_by_js_block { await new Promise((r) => setImmediate(r)); ngx.exit(204); }
    }
    location = /throw {
      content_by_js_block { await new Promise((r) => setImmediate(r)); throw new Error("late failure"); }
    }
  }
}`;
}

for (const engine of ENGINES) {
  describe.skipIf(engine.skip !== null)(titled(engine, 'answers made in a later loop turn'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(conf(port), { env: engine.env });
    }, 30_000);
    afterAll(async () => { await t?.stop(); });

    it('one request at a time on an idle server: each source answers', async () => {
      for (const name of Object.keys(LATER)) {
        const r = await httpGet(port, `/${name}?n=1`, { timeoutMs: 5000 });
        expect([r.status, r.body]).toEqual([200, `${name} 1\n`]);
      }
      expect(await httpGet(port, '/parts', { timeoutMs: 5000 })).toMatchObject({ status: 200, body: 'abc\n' });
      expect(await httpGet(port, '/thread', { timeoutMs: 5000 })).toMatchObject({ status: 200, body: 'thread\n' });
      expect((await httpGet(port, '/exit', { timeoutMs: 5000 })).status).toBe(204);
    });

    it('a throw after the await: 500 and a log line, and the worker goes on', async () => {
      expect((await httpGet(port, '/throw', { timeoutMs: 5000 })).status).toBe(500);
      expect(await eventually(() => t.errorLog(), /late failure/)).toMatch(/\[error\].*late failure/);
      expect((await httpGet(port, '/imm?n=2', { timeoutMs: 5000 })).body).toBe('imm 2\n');
    });

    it('pipelined requests on several keep-alive connections, answered in order', async () => {
      const names = Object.keys(LATER);
      const conns = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((c) => {
        let req = '';
        for (let i = 0; i < 20; i++) req += `GET /${names[(c + i) % names.length]}?n=${c}-${i} HTTP/1.1\r\nHost: t\r\n\r\n`;
        req += 'GET /imm?n=last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n';
        return raw(port, [req], { timeoutMs: 10_000 });
      }));
      conns.forEach((r, c) => {
        expect(r.closed).toBe(true);
        expect(statuses(r.data)).toEqual(new Array(21).fill(200));
        const said = [...r.data.matchAll(/\r\n\r\n(?:[0-9a-f]+\r\n)?(\w+ [\w-]+)\n/g)].map((m) => m[1]);
        const want = Array.from({ length: 20 }, (_, i) => `${names[(c + i) % names.length]} ${c}-${i}`);
        expect(said).toEqual([...want, 'imm last']);
      });
    }, 30_000);
  });
}
