// limit_conn across two workers takes a place with one locked check-and-write, as nginx does: a
// refused request is never counted, not even for a moment. One worker watches the zone's count
// in a busy loop while the other refuses a flood of requests for the full key; with an
// increment undone after the fact the watcher would see the count above the limit (and a request
// that fits could be refused meanwhile).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

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
  server {
    listen 127.0.0.1:${port};
    location = /hold { limit_conn c 1; content_by_js_block { await ngx.sleep(4); ngx.say("held"); } }
    location = /try { limit_conn c 1; content_by_js_block { ngx.say("in"); } }
    location = /watch { content_by_js_block {
      const d = ngx.shared["limit_conn:c"];
      let most = 0;
      const t0 = Date.now();
      while (Date.now() - t0 < 1000) { const [v] = d.get(ngx.var.arg_k); if (v > most) most = v; }
      ngx.say(most);
    } }
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });

    it('a flood of refused requests never shows in the count; the place is free again after', async () => {
      const hold = httpGet(port, '/hold?k=x', { timeoutMs: 15_000 });
      await new Promise((r) => setTimeout(r, 300)); // the holder has its place by now
      const watch = httpGet(port, '/watch?k=x', { timeoutMs: 15_000 });
      await new Promise((r) => setTimeout(r, 100)); // its worker is in the loop
      const statuses: number[] = [];
      for (let round = 0; round < 4; round++) {
        statuses.push(...await Promise.all(Array.from({ length: 60 }, () => httpGet(port, '/try?k=x').then((r) => r.status))));
      }
      expect(statuses.every((s) => s === 503), `flood: ${statuses.join(',')}`).toBe(true);
      expect((await watch).body).toBe('1\n');
      expect((await hold).body).toBe('held\n');
      expect((await httpGet(port, '/try?k=x')).body).toBe('in\n');
    });
  });
}
