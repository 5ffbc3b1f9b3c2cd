// A worker whose event loop is stuck takes no new connections: the native engine accepts from
// the worker's event loop and all workers share one accept queue, so new connections go to the
// workers that are free (with node:cluster's round-robin, some would wait for the stuck one).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_BUILT } from './helpers/engine.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

describe.skipIf(!ENGINE_BUILT)(`a stuck worker${ENGINE_BUILT ? '' : ' (skipped: the native engine is not built)'}`, () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(`
worker_processes 2;
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    location = /block { content_by_js_block { const t0 = Date.now(); while (Date.now() - t0 < 4000); ngx.say(process.pid); } }
    location / { content_by_js_block { ngx.say(process.pid); } }
  }
}
`);
  });
  afterAll(async () => { await t?.stop(); });

  it('gets no new connections: the other worker answers them all at once', async () => {
    const blocked = httpGet(port, '/block', { timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 300)); // the stuck worker is in its loop by now
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await httpGet(port, '/', { timeoutMs: 20_000 }));
    const stuckPid = (await blocked).body.trim();
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.map((a) => a.body.trim()).filter((pid) => pid === stuckPid)).toEqual([]);
  }, 60_000);
});
