// An exception no request owns, inside a worker (issue 11, item 5), through the real server on
// both engines: thrown in a timer, in an event emitter, or a promise rejected with nobody to catch
// it. It is logged with its stack; the worker stops accepting, lets the requests in flight on it
// finish, and exits; the master starts the replacement at once. No request is lost: those in
// flight complete, and new ones during the switch are all answered (one worker: nobody else
// could take them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, httpGet, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';

const conf = (port: number): string => `
worker_processes 1;
error_log logs/error.log notice;
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    location = /slow { content_by_js_block { await ngx.sleep(1.5); ngx.say("slow done ", process.pid); } }
    location = /timer { content_by_js_block { setTimeout(() => { throw new Error("kaboom in a timer"); }, 100); ngx.say("bye"); } }
    location = /emitter { content_by_js_block {
      const { EventEmitter } = require("node:events");
      const e = new EventEmitter();
      e.on("tick", () => { throw new Error("kaboom in an emitter"); });
      setTimeout(() => e.emit("tick"), 100);
      ngx.say("bye");
    } }
    location = /rejected { content_by_js_block {
      setTimeout(() => { Promise.reject(new Error("kaboom in a promise")); }, 100);
      ngx.say("bye");
    } }
    location / { content_by_js_block { ngx.say("pid ", process.pid); } }
  }
}
`;

const FAULTS = [
  ['/timer', 'uncaught exception: Error: kaboom in a timer'],
  ['/emitter', 'uncaught exception: Error: kaboom in an emitter'],
  ['/rejected', 'unhandled promise rejection: Error: kaboom in a promise'],
] as const;

afterEach(async () => { await stopAll(); });

/** The conf with an init_worker_by_js that makes every worker after the first take `ms` to start. */
const slowReplacement = (port: number, marker: string, ms: number): string => conf(port).replace('http {\n', `http {
  init_worker_by_js_block {
    const fs = require("node:fs");
    if (fs.existsSync(${JSON.stringify(marker)})) await new Promise((r) => setTimeout(r, ${ms}));
    else fs.writeFileSync(${JSON.stringify(marker)}, "started");
  }
`);

for (const engine of ENGINES) {
  describe.skipIf(engine.skip !== null)(titled(engine, 'a fault outside any request'), () => {
    for (const [where, logged] of FAULTS) {
      it(`${where}: logged with its stack, the worker replaced, no request lost`, async () => {
        const port = await freePort();
        const t: TrestyProcess = await startTresty(conf(port), { env: engine.env });
        const [old] = (await t.waitFor((e) => e.tresty === 'ready', { past: true })).workers as number[];
        const exited = t.waitFor((e) => e.tresty === 'worker-exit' && e.pid === old, { timeoutMs: 20_000 });
        const replaced = t.waitFor((e) => e.tresty === 'worker-ready' && e.pid !== old, { timeoutMs: 20_000 });
        // Requests in flight on the worker when the fault comes.
        const slow = Array.from({ length: 4 }, () => httpGet(port, '/slow', { timeoutMs: 20_000 }));
        await new Promise((r) => setTimeout(r, 200));
        expect((await httpGet(port, where)).body).toBe('bye\n');
        // New requests all through the switch, one every 50 ms: until the old worker has exited
        // (its slow requests done) and the replacement is ready and has had 0.5 s to take over
        // (its start-up takes seconds on a loaded machine), 20 s at most.
        const during: Array<Promise<{ status: number; body: string } | Error>> = [];
        let readyAt = Infinity;
        let oldGone = false;
        void replaced.then(() => { readyAt = Date.now(); }, () => undefined);
        void exited.then(() => { oldGone = true; }, () => undefined);
        const cap = Date.now() + 20_000;
        while (Date.now() < cap && (!oldGone || Date.now() < readyAt + 500)) {
          during.push(httpGet(port, '/', { timeoutMs: 20_000 }).catch((e: Error) => e));
          await new Promise((r) => setTimeout(r, 50));
        }
        for (const s of await Promise.all(slow)) {
          expect(s.status).toBe(200);
          expect(s.body).toBe(`slow done ${old}\n`);
        }
        const answers = await Promise.all(during);
        expect(answers.filter((a) => a instanceof Error || a.status !== 200).map((a) => (a instanceof Error ? a.message : a.status))).toEqual([]);
        const fresh = (await replaced).pid as number;
        expect((await exited).code).toBe(1);
        // The answers came from the old worker until it stopped accepting, then from the new one.
        expect(answers.some((a) => !(a instanceof Error) && a.body === `pid ${fresh}\n`)).toBe(true);
        const log = t.errorLog();
        expect(log).toMatch(new RegExp(`\\[alert\\] \\d+#0: worker process ${old} ${logged.replace(/[()]/g, '\\$&')}\\n\\s+at `));
        expect(log).toMatch(new RegExp(`\\[notice\\] \\d+#0: worker process ${old} stops accepting and exits once its requests are done \\(TRESTY_ERR_WORKER_FAULT\\)`));
        // The master reports the exit before it logs it: the line may come a moment later.
        await expect.poll(() => t.errorLog()).toMatch(new RegExp(`\\[alert\\] \\d+#0: worker process ${old} exited with code 1`));
        // The old worker stops accepting once told the fresh one is ready: under load a request may
        // still reach it in that moment (seen once in a loaded npm test), so the hand-over is polled.
        await expect.poll(async () => (await httpGet(port, '/')).body, { timeout: 5000 }).toBe(`pid ${fresh}\n`);
      }, 60_000);
    }

    // Under node:cluster the master closes a socket no worker listens on: the old worker must keep
    // accepting until its replacement listens, however long that takes (it gave up after 5 s, and
    // at load 15 the replacement's start took longer: 24 connections were refused). 6 s is past those 5 s.
    it('a replacement slow to start (6 s): every new request is answered meanwhile', async () => {
      const port = await freePort();
      const marker = path.join(os.tmpdir(), `tresty-fault-marker-${process.pid}-${port}`);
      const t = await startTresty(slowReplacement(port, marker, 6000), { env: engine.env });
      try {
        const [old] = (await t.waitFor((e) => e.tresty === 'ready', { past: true })).workers as number[];
        const replaced = t.waitFor((e) => e.tresty === 'worker-ready' && e.pid !== old, { timeoutMs: 40_000 });
        expect((await httpGet(port, '/timer')).body).toBe('bye\n');
        const during: Array<Promise<{ status: number; body: string } | Error>> = [];
        let ready = false;
        void replaced.then(() => { ready = true; }, () => undefined);
        const cap = Date.now() + 40_000;
        while (!ready && Date.now() < cap) {
          during.push(httpGet(port, '/', { timeoutMs: 20_000 }).catch((e: Error) => e));
          await new Promise((r) => setTimeout(r, 100));
        }
        const fresh = (await replaced).pid as number;
        const answers = await Promise.all(during);
        expect(answers.length).toBeGreaterThan(30); // the switch took its 6 s
        expect(answers.filter((a) => a instanceof Error || a.status !== 200).map((a) => (a instanceof Error ? a.message : a.status))).toEqual([]);
        // The old worker stops accepting once told the fresh one is ready: under load a request may
        // still reach it in that moment (seen once in a loaded npm test), so the hand-over is polled.
        await expect.poll(async () => (await httpGet(port, '/')).body, { timeout: 5000 }).toBe(`pid ${fresh}\n`);
      } finally {
        fs.rmSync(marker, { force: true });
      }
    }, 90_000);
  });
}
