// limit_conn across two workers takes a place with one locked check-and-write, as nginx does: a
// refused request is never counted, not even for a moment. One worker watches the zone's count
// in a busy loop while the other refuses a flood of requests for the full key; with an
// increment undone after the fact the watcher would see the count above the limit (and a request
// that fits could be refused meanwhile).
// Each step waits on what the server says, not on time: the holder tells it has its place (its
// first line) and keeps it until told to go, so a slow machine cannot end the hold during the
// flood; the watcher watches until the other worker has refused 100 (its log phase counts them),
// and the flood goes on until then. Its release, in the holder's worker,
// is seen by the other worker only a little after the client has the answer (nginx's workers
// too): the test waits for the count to drop, then a request that fits must get in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, httpGet, slowGet, startTresty, type TrestyProcess } from './helpers/server.js';

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'limit_conn with two workers'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 2;
events {}
http {
  access_log off;
  limit_conn_zone $arg_k zone=c:64k;
  js_shared_dict sig 64k;
  server {
    listen 127.0.0.1:${port};
    location = /hold { limit_conn c 1; content_by_js_block {
      ngx.say("holding");
      await ngx.flush(true);
      // (bounded: a failed test still ends)
      for (const t0 = Date.now(); !ngx.shared.sig.get("go")[0] && Date.now() - t0 < 20000;) await ngx.sleep(0.01);
      ngx.say("held");
    } }
    location = /go { content_by_js_block { ngx.shared.sig.set("go", 1); ngx.say("ok"); } }
    location = /try { limit_conn c 1; content_by_js_block { ngx.say("in"); } log_by_js_block { if (ngx.status === 503) ngx.shared.sig.incr("refused", 1, 0); } }
    location = /count { content_by_js_block { const [v] = ngx.shared["limit_conn:c"].get(ngx.var.arg_k); ngx.say(v ?? 0); } }
    location = /watch { content_by_js_block {
      // Watches until the other worker refused 100 more (bounded: a failed test still ends),
      // in busy spells of 5 ms: between them its own worker serves the requests it got.
      const d = ngx.shared["limit_conn:c"];
      const sig = ngx.shared.sig;
      const from = sig.get("refused")[0] ?? 0;
      let most = 0;
      let seen = 0;
      for (const t0 = Date.now(); seen < 100 && Date.now() - t0 < 10000; await ngx.sleep(0)) {
        for (const t1 = Date.now(); Date.now() - t1 < 5;) {
          const [v] = d.get(ngx.var.arg_k);
          if (v > most) most = v;
        }
        seen = (sig.get("refused")[0] ?? 0) - from;
      }
      ngx.say(most, " ", seen >= 100 ? "while 100 were refused" : "timed out");
    } }
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });

    it('a flood of refused requests never shows in the count; the place is free again after', async () => {
      const hold = slowGet(port, '/hold?k=x');
      hold.done.catch(() => { /* judged where awaited; after a failure the server's stop cuts it */ });
      await hold.started; // its place is taken (limit_conn runs before its content)
      let watched: string | null = null;
      const watch = httpGet(port, '/watch?k=x', { timeoutMs: 15_000 }).then((r) => { watched = r.body; });
      // The flood goes on until the watcher saw 100 refused by the other worker.
      const statuses: number[] = [];
      await Promise.all(Array.from({ length: 30 }, async () => {
        while (watched === null && statuses.length < 5000) statuses.push((await httpGet(port, '/try?k=x', { timeoutMs: 15_000 })).status);
      }));
      await watch;
      expect(watched).toBe('1 while 100 were refused\n');
      expect(statuses.every((s) => s === 503), `flood: ${statuses.join(',')}`).toBe(true);
      expect((await httpGet(port, '/go')).body).toBe('ok\n');
      expect(await hold.done).toBe('holding\nheld\n');
      let count = '';
      for (const deadline = Date.now() + 10_000; Date.now() < deadline && count !== '0\n';) count = (await httpGet(port, '/count?k=x')).body;
      expect(count).toBe('0\n');
      expect((await httpGet(port, '/try?k=x')).body).toBe('in\n');
    });
  });
}
