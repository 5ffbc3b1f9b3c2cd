// tresty/rack the way the seed writes it: `r:respond(r:execute())` inside a request without
// passing ngx, and a respond() nobody awaited that still sends its whole streamed body (the
// request stays open until it is done). Through the real server, each case run twice.
import { phaseSuite, type Case } from './helpers/phases-harness.js';

const files: Record<string, string> = {
  'js/seed.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use(async (req, next) => {
  req.headers['Secret'] = '1234';
  const res = await next();
  res.status = 200;
  res.body = 'secret=' + req.headers.secret + ' path=' + req.path;
  return res;
});
// As the seed: no ngx passed to execute().
export default async () => r.respond(await r.execute());
`,
  'js/not-awaited.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use(async (req, next) => {
  const res = await next();
  res.body = (async function* () {
    for (let i = 0; i < 5; i++) { await new Promise((ok) => setTimeout(ok, 10)); yield 'chunk' + i + ';'; }
  })();
  return res;
});
// The handler does not await respond(): the request must still wait for the whole body.
export default async (ngx) => { const res = await r.execute(ngx); r.respond(res); };

`,
  'js/then.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use(async (req, next) => { const res = await next(); res.body = 'from then'; return res; });
// Neither awaited nor returned: execute() and respond() keep the request open themselves.
export default (ngx) => { r.execute(ngx).then((res) => { r.respond(res) }) };
`,
  'js/caught.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use(() => { throw new Error('mw broke') });
// A failure the handler catches is its own business: no 500.
export default async (ngx) => { try { await r.execute() } catch (e) { ngx.say('caught ', e.message) } };
`,
  'js/late-execute.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
export default async (ngx) => { await ngx.sleep(0.001); r.respond(await r.execute()) };
`,
  'js/respond-fails.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use(async (req, next) => { const res = await next(); res.body = 42; return res; });
export default async (ngx) => { const res = await r.execute(); r.respond(res) };
`,
  'node_modules/tresty/package.json': JSON.stringify({ name: 'tresty', type: 'module', exports: { './rack': './rack.js' } }),
  'node_modules/tresty/rack.js': `export * from ${JSON.stringify(new URL('../dist/src/rack/index.js', import.meta.url).pathname)};\n`,
};

const cases: Case[] = [
  {
    name: 'seed: r.respond(await r.execute()) without ngx',
    conf: 'location = /seed { content_by_js_file js/seed.mjs; }',
    requests: [{ path: '/seed', status: 200, resBody: 'secret=1234 path=/seed' }],
  },
  {
    name: 'a respond() that was not awaited still sends the whole streamed body',
    conf: 'location = /not-awaited { content_by_js_file js/not-awaited.mjs; }',
    requests: [{ path: '/not-awaited', status: 200, resBody: 'chunk0;chunk1;chunk2;chunk3;chunk4;' }],
  },
  {
    name: 'execute().then(respond) in a handler that returns at once still answers',
    conf: 'location = /then { content_by_js_file js/then.mjs; }',
    requests: [{ path: '/then', status: 200, resBody: 'from then' }],
  },
  {
    name: 'a failure of execute() that the handler catches does not fail the request',
    conf: 'location = /caught { content_by_js_file js/caught.mjs; }',
    requests: [{ path: '/caught', status: 200, resBody: 'caught mw broke\n' }],
  },
  {
    name: 'execute() without ngx after the handler\'s first await: a clear error and a 500',
    conf: 'location = /late-execute { content_by_js_file js/late-execute.mjs; }',
    requests: [{ path: '/late-execute', status: 500 }],
    errorLog: ["rack.execute: no request is running here; call it before the handler's first await, or pass the handler's ngx"],
  },
  {
    name: 'a respond() nobody awaited that fails: a 500, logged with the handler',
    conf: 'location = /respond-fails { content_by_js_file js/respond-fails.mjs; }',
    requests: [{ path: '/respond-fails', status: 500 }],
    errorLog: [/js entry thread aborted: runtime error: .*rack\.respond: res\.body must be a string/],
  },
];

phaseSuite('rack as the seed writes it', { files }, cases);
