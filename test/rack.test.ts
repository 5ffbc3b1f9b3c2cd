// tresty/rack through real HTTP against the real server: middleware order, request and response
// changes, short-circuit, the default response, case-insensitive headers, one instance under 100
// concurrent requests, a throwing middleware. Streaming is in rack-stream.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confFor, errorLogOf } from './helpers/phases-harness.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

const files: Record<string, string> = {
  'js/order.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
const step = (name) => async (req, next) => {
  req.trail.push(name + '>');
  const res = await next();
  req.trail.push('<' + name);
  res.body = req.trail.join(' ');
  return res;
};
r.use((req, next) => { req.trail = []; return next(); });
r.use(step('a'));
r.use(step('b'));
r.use(step('c'));
export default r.handler();
`,
  'js/change-req.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use((req, next) => {
  req.headers['X-Secret'] = '1234';
  req.user = 'ann';
  req.path = '/rewritten';
  return next();
});
r.use(async (req, next) => {
  const res = await next();
  res.body = [req.headers['x-secret'], req.user, req.path, req.method, req.query, req.args.a, req.uri].join(' ');
  return res;
});
export default r.handler();
`,
  'js/change-res.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use(async (req, next) => {
  const res = await next();
  res.status = 201;
  res.headers['X-Outer'] = 'yes';
  res.body = String(res.body).toUpperCase();
  return res;
});
r.use(async (req, next) => {
  const res = await next();
  res.body = 'inner body';
  res.headers['X-Inner'] = 'in';
  return res;
});
export default async (ngx) => r.respond(await r.execute(ngx));
`,
  'js/short.mjs': `import { rack } from 'tresty/rack';
let innerRuns = 0;
const r = rack.new();
r.use((req, next) => (req.args.deny ? { status: 403, body: 'denied' } : next()));
r.use(async (req, next) => {
  innerRuns++;
  const res = await next();
  res.body = 'inner runs: ' + innerRuns;
  return res;
});
export default r.handler();
`,
  'js/default.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use((req, next) => next());
export default r.handler();
`,
  'js/inspect-default.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
export default async (ngx) => {
  const res = await r.execute(ngx);
  ngx.say(JSON.stringify({ status: res.status ?? null, headers: Object.keys(res.headers), body: res.body }));
};
`,
  'js/case.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use(async (req, next) => {
  const res = await next();
  res.headers['X-Thing'] = 'a';
  res.headers['x-THING'] = 'b';
  res.headers.content_type = 'text/x-rack';
  res.body = [req.headers['X-CUSTOM'], req.headers['x-custom'], req.headers.x_custom, 'X-Custom' in req.headers].join(',');
  return res;
});
export default r.handler();
`,
  'js/concurrent.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use(async (req, next) => {
  req.id = req.args.id;
  const res = await next();
  res.headers['X-Id'] = req.id;
  res.body += ' out:' + req.id;
  return res;
});
r.use(async (req, next) => {
  await req.ngx.sleep(Math.random() * 0.02);
  const res = await next();
  if (res.body !== '' || res.headers['X-Id'] !== undefined) res.body = 'LEAK';
  res.body += 'in:' + req.id;
  return res;
});
export default r.handler();
`,
  'js/throws.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use(async (req, next) => { const res = await next(); res.status = 200; return res; });
r.use((req, next) => {
  throw new TypeError('middleware boom');
});
export default r.handler();
`,
  'js/lib/strict.mjs': `export const strict = async (req, next) => {
  if (!req.headers['x-token']) throw new Error('no token');
  return next();
};
`,
  'js/from-lib.mjs': `import { rack } from 'tresty/rack';
import { strict } from './lib/strict.mjs';
export default rack.new().use(strict).handler();
`,
  'js/no-response.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use(async (req, next) => next());
r.use(async function forgetful(req, next) { await next(); });
export default r.handler();
`,
  'js/exit.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use(async (req, next) => { const res = await next(); res.body = 'not reached'; return res; });
r.use((req) => req.ngx.exit(418));
export default r.handler();
`,
  'js/pid.mjs': 'export default (ngx) => ngx.say(process.pid);\n',
  // An installed package as `npm install tresty` leaves it, pointing at this build.
  'node_modules/tresty/package.json': JSON.stringify({ name: 'tresty', type: 'module', exports: { './rack': './rack.js' } }),
  'node_modules/tresty/rack.js': `export * from ${JSON.stringify(new URL('../dist/src/rack/index.js', import.meta.url).pathname)};\n`,
};

const locations = Object.keys(files)
  .filter((f) => f.startsWith('js/') && !f.startsWith('js/lib/'))
  .map((f) => `location = /${f.slice(3, -4)} { content_by_js_file ${f}; }`)
  .join('\n');

describe('rack', () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(confFor(port, {}, [{ name: 'rack', conf: locations, requests: [] }]), { files });
  });
  afterAll(async () => { await t?.stop(); });

  it('runs middlewares in the order they were added, each around the next', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await httpGet(port, '/order');
      expect(res.status).toBe(200);
      expect(res.body).toBe('a> b> c> <c <b <a');
    }
  });

  it('a request changed before next() is what the inner middleware sees', async () => {
    const res = await httpGet(port, '/change-req?a=1&b=2');
    expect(res.body).toBe('1234 ann /rewritten GET a=1&b=2 1 /change-req?a=1&b=2');
  });

  it('a response changed after next() is what the client gets', async () => {
    const res = await httpGet(port, '/change-res');
    expect(res.status).toBe(201);
    expect(res.headers['x-outer']).toBe('yes');
    expect(res.headers['x-inner']).toBe('in');
    expect(res.body).toBe('INNER BODY');
  });

  it('a middleware that answers without next() skips the rest', async () => {
    const denied = await httpGet(port, '/short?deny=1');
    expect(denied.status).toBe(403);
    expect(denied.body).toBe('denied');
    const passed = await httpGet(port, '/short');
    expect(passed.status).toBe(200);
    expect(passed.body).toBe('inner runs: 1');
  });

  it('the default response: no status (200 when sent), no headers, empty body', async () => {
    const inspected = await httpGet(port, '/inspect-default');
    expect(JSON.parse(inspected.body)).toEqual({ status: null, headers: [], body: '' });
    const res = await httpGet(port, '/default');
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers['content-length']).toBe('0');
  });

  it('header names are case-insensitive in requests and responses', async () => {
    const res = await httpGet(port, '/case', { headers: { 'X-Custom': 'v' } });
    expect(res.body).toBe('v,v,v,true');
    expect(res.headers['x-thing']).toBe('b'); // node joins repeated headers: one header only
    expect(res.headers['content-type']).toBe('text/x-rack');
  });

  it('one rack serves 100 concurrent requests without sharing their state', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `r${i}`);
    const all = await Promise.all(ids.map((id) => httpGet(port, `/concurrent?id=${id}`)));
    all.forEach((res, i) => {
      expect(res.status).toBe(200);
      expect(res.body).toBe(`in:${ids[i]} out:${ids[i]}`);
      expect(res.headers['x-id']).toBe(ids[i]);
    });
  });

  it('a throwing middleware gives a 500 logged with its file:line, and the worker goes on', async () => {
    const pid = (await httpGet(port, '/pid')).body;
    const res = await httpGet(port, '/throws');
    expect(res.status).toBe(500);
    await expect.poll(() => errorLogOf(t)).toMatch(/js entry thread aborted: runtime error: \S*js\/throws\.mjs:5: TypeError: middleware boom \(TRESTY_ERR_HANDLER\)/);
    expect((await httpGet(port, '/order')).body).toBe('a> b> c> <c <b <a');
    expect((await httpGet(port, '/pid')).body).toBe(pid);
  });

  it('a middleware from another module that throws is logged with its own file:line', async () => {
    const res = await httpGet(port, '/from-lib');
    expect(res.status).toBe(500);
    await expect.poll(() => errorLogOf(t)).toMatch(/js entry thread aborted: runtime error: \S*js\/lib\/strict\.mjs:2: Error: no token \(TRESTY_ERR_HANDLER\)\nstack traceback:\n\s+at \S*strict .*js\/lib\/strict\.mjs:2:/);
  });

  it('ngx.exit in a middleware leaves the chain as it leaves any handler', async () => {
    const res = await httpGet(port, '/exit');
    expect(res.status).toBe(418);
    expect(res.body).not.toContain('not reached');
  });

  it('a middleware that returns nothing is TRESTY_ERR_RACK_NO_RESPONSE, naming it', async () => {
    const res = await httpGet(port, '/no-response');
    expect(res.status).toBe(500);
    await expect.poll(() => errorLogOf(t)).toMatch(/TrestyError: rack: middleware #2 "forgetful" \(added at \S*js\/no-response\.mjs:4\) returned undefined/);
  });
});
