// The request-smuggling and bad-request table (test/fixtures/http-refusals.ts: each shape with what
// real nginx answers) sent to the real tresty on the native engine: every shape must get nginx's
// statuses, with the connection closed exactly when nginx closes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpShapes, shapeBytes, type HttpShape } from './fixtures/http-refusals.js';
import { ENGINE_BUILT } from './helpers/engine.js';
import { sendRaw } from './helpers/raw-http.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

// The server nginx ran for the table (NGINX_SERVER), in tresty's words.
const conf = (port: number): string => `
worker_processes 1;
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    location / { content_by_js_block { await ngx.req.read_body(); ngx.say("ok"); } }
  }
}
`;

describe.skipIf(!ENGINE_BUILT)(`tresty answers each shape as nginx${ENGINE_BUILT ? '' : ' (skipped: the native engine is not built)'}`, () => {
  let t: TrestyProcess;
  const seen = new Map<string, { statuses: number[]; close: boolean; http09: boolean }>();

  beforeAll(async () => {
    const port = await freePort();
    t = await startTresty(conf(port));
    // sendRaw takes 250 ms of silence for "no answer": the worker's first JS answer (the handler
    // compiled, modules loaded) can take longer than that on a loaded machine. One answer first.
    expect((await httpGet(port, '/', { timeoutMs: 30_000 })).status).toBe(200);
    const queue = [...httpShapes];
    const worker = async (): Promise<void> => {
      for (let s: HttpShape | undefined; (s = queue.shift()); ) {
        const a = await sendRaw(port, shapeBytes(s), { answers: s.statuses.length });
        seen.set(s.name, { statuses: a.statuses, close: a.closed, http09: a.http09 });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }, 180_000);

  afterAll(async () => { await t?.stop(); });

  for (const shape of httpShapes) {
    it(shape.name, () => {
      expect(seen.get(shape.name)).toEqual({ statuses: shape.statuses, close: shape.close, http09: shape.http09 ?? false });
    });
  }
});
