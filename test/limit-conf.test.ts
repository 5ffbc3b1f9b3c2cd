// limit_req / limit_conn across workers: the zones are js_shared_dict zones, so two workers
// share one bucket and one count. Many requests at once, spread over both workers, let through
// exactly burst + 1 (limit_req nodelay at 1r/m) and exactly N at a time (limit_conn).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';
import { ENGINES, titled } from './helpers/engines.js';

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'limit_req / limit_conn with two workers'), () => {
    let t: TrestyProcess;
    let port: number;
    // /c's handler notes its arrival in in-<round> and holds its place until go-<round> exists.
    let hold = '';
    const file = (name: string): string => path.join(hold, name);
    beforeAll(async () => {
      hold = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-limit-conn-'));
      port = await freePort();
      t = await startTresty(`worker_processes 2;
error_log logs/error.log info;
events {}
http {
  limit_req_zone $binary_remote_addr zone=one:64k rate=1r/m;
  limit_conn_zone $arg_k zone=c:64k;
  limit_req_zone $arg_k zone=sec:64k rate=1r/s;
  server {
    listen 127.0.0.1:${port};
    location = /r { limit_req zone=one burst=4 nodelay; content_by_js_block { ngx.say(ngx.worker.pid()) } }
    location = /d { limit_req zone=sec burst=5; content_by_js_block { ngx.say(ngx.var.limit_req_status) } }
    location = /c { limit_conn c 3; content_by_js_block {
      const fs = require("node:fs");
      const dir = ${JSON.stringify(hold)};
      fs.appendFileSync(dir + "/in-" + ngx.var.arg_round, "x");
      for (let i = 0; i < 1500 && !fs.existsSync(dir + "/go-" + ngx.var.arg_round); i++) await ngx.sleep(0.02);
      ngx.say(ngx.worker.pid());
    } }
  }
}
`, { env: e.env });
    });
    afterAll(async () => {
      await t?.stop();
      if (hold !== '') fs.rmSync(hold, { recursive: true, force: true });
    });

    it('limit_req lets exactly burst + 1 of 30 simultaneous requests through', async () => {
      const res = await Promise.all(Array.from({ length: 30 }, () => httpGet(port, '/r')));
      expect(res.filter((r) => r.status === 200)).toHaveLength(5);
      expect(res.filter((r) => r.status === 503)).toHaveLength(25);
    });

    it('limit_req without nodelay delays a request over the rate until the bucket drains to it', async () => {
      const first = await httpGet(port, '/d?k=z');
      const t0 = Date.now();
      const second = await httpGet(port, '/d?k=z');
      const waited = Date.now() - t0;
      expect([first.body, second.body]).toEqual(['PASSED\n', 'DELAYED\n']);
      // 1r/s: the second waits out what is left of the first's second (minus the time between them).
      expect(waited).toBeGreaterThan(300);
      expect(t.errorLog()).toMatch(/\[warn\] .*delaying request, excess: 0\.\d{3}, by zone "sec"/);
    });

    // The handlers hold their places until the test lets them go: on a loaded machine the 12
    // connections may take a while to all arrive, and a place freed before the last one came would
    // let a fourth in. So they go once 9 have been turned away and 3 have come in (or after 15 s,
    // when more came in: the counts below then fail); the 3 of the second round, once all 3 are in.
    const arrived = (round: number): number => { try { return fs.readFileSync(file(`in-${round}`), 'utf8').length; } catch { return 0; } };
    const release = async (round: number, ready: () => boolean): Promise<void> => {
      for (const deadline = Date.now() + 15_000; Date.now() < deadline && !ready();) await new Promise((r) => setTimeout(r, 20));
      fs.writeFileSync(file(`go-${round}`), '');
    };

    it('limit_conn lets exactly N of 12 simultaneous requests in, and gives the places back', async () => {
      let turnedAway = 0;
      const first = Array.from({ length: 12 }, () => httpGet(port, '/c?k=y&round=1', { timeoutMs: 30_000 })
        .then((r) => { if (r.status === 503) turnedAway++; return r; }));
      await release(1, () => turnedAway >= 9 && arrived(1) >= 3);
      const res = await Promise.all(first);
      expect(res.filter((r) => r.status === 200)).toHaveLength(3);
      const second = Array.from({ length: 3 }, () => httpGet(port, '/c?k=y&round=2', { timeoutMs: 30_000 }));
      await release(2, () => arrived(2) >= 3);
      const again = await Promise.all(second);
      expect(again.map((r) => r.status)).toEqual([200, 200, 200]);
    });
  });
}
