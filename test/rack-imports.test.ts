// tresty/rack imported in a prefix with no tresty installed: every module a handler pulls in, and
// inline blocks that import() it, resolve `tresty/*` to the running tresty.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

function confWith(port: number, locations: string): string {
  return `worker_processes 1;
error_log logs/error.log info;
events {}
http {
  server {
    listen 127.0.0.1:${port};
    ${locations}
  }
}`;
}

describe('importing tresty/rack from a module a handler imports', () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(confWith(port, 'location = /app { content_by_js_file handlers/app.mjs; }'), {
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

describe('importing tresty/rack from an inline block (no handler files in the conf)', () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(confWith(port, `location = /inline {
      content_by_js_block {
        const { rack } = await import('tresty/rack');
        const r = rack.new().use(() => ({ status: 201, headers: {}, body: 'inline rack\\n' }));
        r.respond(await r.execute(ngx));
      }
    }`));
  });
  afterAll(async () => { await t?.stop(); });

  it('await import() in the block resolves it', async () => {
    const res = await httpGet(port, '/inline');
    expect(res.status).toBe(201);
    expect(res.body).toBe('inline rack\n');
  });
});
