// worker_watchdog_timeout (issue 11, item 6), through the real server on both engines: a handler
// stuck in `while (true) {}` gets its worker killed past the limit, the log names the handler and
// its location, a new worker takes the slot, and the other worker serves every request meanwhile
// (a stuck worker is handed no connection: one that were would fail when the worker is killed).
// A handler that waits (not blocks) longer than the limit is left alone.
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, httpGet, runTresty, makePrefix, startTresty, stopAll } from './helpers/server.js';

const conf = (port: number, watchdog = '2s'): string => `
worker_processes 2;
worker_watchdog_timeout ${watchdog};
error_log logs/error.log notice;
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    location = /spin { content_by_js_block { while (true) {} } }
    location = /spin-late { content_by_js_block { await ngx.sleep(0.01); while (true) {} } }
    location = /sleep { content_by_js_block { await ngx.sleep(3); ngx.say("slept ", process.pid); } }
    location / { content_by_js_block { ngx.say("pid ", process.pid); } }
  }
}
`;

afterEach(async () => { await stopAll(); });

for (const engine of ENGINES) {
  describe.skipIf(engine.skip !== null)(titled(engine, 'worker_watchdog_timeout'), () => {
    for (const [where, what] of [
      ['/spin', 'in content_by_js \\(.*nginx\\.conf:\\d+\\) in location "= /spin"'],
      ['/spin-late', 'outside a handler\'s synchronous code \\(after an await, or in a callback\\); the last handler started was content_by_js \\(.*nginx\\.conf:\\d+\\) in location "= /spin-late"'],
    ] as const) {
      it(`${where}: the stuck worker is logged, killed and replaced; the other serves every request`, async () => {
        const port = await freePort();
        const t = await startTresty(conf(port), { env: engine.env });
        const workers = (await t.waitFor((e) => e.tresty === 'ready', { past: true })).workers as number[];
        const killed = t.waitFor((e) => e.tresty === 'worker-exit' && e.signal === 'SIGKILL', { timeoutMs: 20_000 });
        const fresh = t.waitFor((e) => e.tresty === 'worker-ready' && !workers.includes(e.pid as number), { timeoutMs: 30_000 });
        const stuck = httpGet(port, where, { timeoutMs: 30_000 }).then(() => 'answered', (e: Error) => e.message);
        await new Promise((r) => setTimeout(r, 300)); // the worker is in its loop by now
        const answers: Array<{ status: number; body: string } | Error> = [];
        for (let i = 0; i < 20; i++) answers.push(await httpGet(port, '/', { timeoutMs: 15_000 }).catch((e: Error) => e));
        const gone = (await killed).pid as number;
        expect(workers).toContain(gone);
        expect(answers.filter((a) => a instanceof Error || a.status !== 200).map((a) => (a instanceof Error ? a.message : a.status))).toEqual([]);
        expect(answers.filter((a) => !(a instanceof Error) && a.body === `pid ${gone}\n`)).toEqual([]);
        expect(await stuck).not.toBe('answered');
        const log = t.errorLog();
        expect(log, log).toMatch(new RegExp(`\\[alert\\] \\d+#0: worker process ${gone} event loop blocked for \\d+ ms ${what}; killing it \\(worker_watchdog_timeout 2000ms, TRESTY_ERR_WORKER_BLOCKED\\)`));
        // The master reports the exit before it logs it: the line may come a moment later.
        await expect.poll(() => t.errorLog()).toMatch(new RegExp(`\\[alert\\] \\d+#0: worker process ${gone} exited on signal SIGKILL`));
        const next = (await fresh).pid as number;
        const seen = new Set<string>();
        // Connections in parallel: one at a time, the kernel may hand all 40 to the older worker.
        for (let i = 0; i < 30 && !seen.has(`pid ${next}\n`); i++) {
          for (const r of await Promise.all([1, 2, 3, 4].map(() => httpGet(port, '/')))) seen.add(r.body);
        }
        expect(seen.has(`pid ${next}\n`)).toBe(true);
      }, 60_000);
    }

    it('a handler that waits longer than the limit (not blocking the loop) is left alone', async () => {
      const port = await freePort();
      const t = await startTresty(conf(port), { env: engine.env });
      const r = await httpGet(port, '/sleep', { timeoutMs: 15_000 });
      expect(r.status).toBe(200);
      expect(r.body).toMatch(/^slept \d+\n$/);
      expect(t.errorLog()).not.toMatch(/event loop blocked/);
      expect(t.events.filter((e) => e.tresty === 'worker-exit')).toEqual([]);
    }, 30_000);
  });
}

describe('worker_watchdog_timeout in the conf', () => {
  it('takes off or a time of 100ms or more in the main context, and refuses anything else', async () => {
    const ok = (v: string): string => `worker_watchdog_timeout ${v};\nevents {}\n`;
    for (const v of ['off', '100ms', '5s']) {
      const r = await runTresty(['-t', '-p', makePrefix(ok(v)), '-c', 'conf/nginx.conf']);
      expect(r.code, `${v}: ${r.stderr}`).toBe(0);
    }
    for (const v of ['50ms', 'soon']) {
      const r = await runTresty(['-t', '-p', makePrefix(ok(v)), '-c', 'conf/nginx.conf']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`invalid value "${v}" in "worker_watchdog_timeout" directive`);
    }
    const inHttp = await runTresty(['-t', '-p', makePrefix('events {}\nhttp { worker_watchdog_timeout 1s; }\n'), '-c', 'conf/nginx.conf']);
    expect(inHttp.code).toBe(1);
    expect(inHttp.stderr).toContain('"worker_watchdog_timeout" directive is not allowed here');
  });
});
