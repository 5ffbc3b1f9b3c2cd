// A handler file whose helper module (not the handler itself) imports 'tresty/rack', in a prefix
// with no tresty installed: every module a handler pulls in resolves `tresty/*` to the running tresty.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

describe('importing tresty/rack from a module a handler imports', () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  server {
    listen 127.0.0.1:${port};
    location = /app { content_by_js_file handlers/app.mjs; }
  }
}`, {
      files: {
        'handlers/lib/stack.mjs': `import { rack } from 'tresty/rack';
export const app = rack.new();
app.use(async (req, next) => { const res = await next(); res.headers['X-Via'] = 'lib'; return res; });
app.use(() => ({ status: 200, headers: {}, body: 'from a helper module\\n' }));`,
        'handlers/app.mjs': `import { app } from './lib/stack.mjs';
export default app.handler();`,
      },
    });
  });
  afterAll(async () => { await t?.stop(); });

  it('serves through the rack built in the helper module', async () => {
    const res = await httpGet(port, '/app');
    expect(res.status).toBe(200);
    expect(res.headers['x-via']).toBe('lib');
    expect(res.body).toBe('from a helper module\n');
  });
});
