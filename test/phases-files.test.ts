// Handler files and per-worker state: .mjs/.js/.ts files imported once per worker, module-level
// state, js_code_cache off, js_package_path, init_by_js / init_worker_by_js, timers, load errors.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confFor, errorLogOf, phaseSuite, type Case } from './helpers/phases-harness.js';
import { freePort, httpGet, makePrefix, runTresty, startTresty, type TrestyProcess } from './helpers/server.js';

const files: Record<string, string> = {
  'js/counter.mjs': 'let n = 0;\nexport default (ngx) => { n++; ngx.say("count=", n); };\n',
  'js/nocache.mjs': 'let n = 0;\nexport default (ngx) => { n++; ngx.say("n=", n); };\n',
  'js/throws.ts': 'interface X { a: number }\n\nexport default (ngx: unknown): void => {\n  const x: X = { a: 1 };\n  throw new RangeError("ts line " + x.a);\n};\n',
  'js/nocache.ts': 'let n: number = 0;\nexport default (ngx: { say(...a: unknown[]): void }): void => { n++; ngx.say("ts n=", n); };\n',
  'js/util.ts': 'export const times = (n: number): number => n * 2;\n',
  'js/esm-lib.mjs': 'import lib from "mylib";\nexport default (ngx) => ngx.say(lib.greet("esm"));\n',
  'js/handler.ts': [
    'import { times } from "./util.js";',
    'interface Greeting { who: string; times: number }',
    'const g: Greeting = { who: "ts", times: times(1) };',
    'export default async (ngx: { say(...a: unknown[]): void; sleep(s: number): Promise<void> }): Promise<void> => {',
    '  await ngx.sleep(0.01);',
    '  ngx.say(`hello ${g.who} x${g.times}`);',
    '};',
  ].join('\n'),
  'js/throws.mjs': 'export default (ngx) => {\n  ngx.ctx.x = 1;\n  throw new TypeError("from file");\n};\n',
  'js/filter.js': 'module.exports = (ngx) => { ngx.arg[1] = String(ngx.arg[1]).replace(/o/g, "0"); };\n',
  'lib/mylib.js': 'module.exports = { greet: (x) => "hi " + x };\n',
};

const cases: Case[] = [
  {
    name: 'a module is imported once per worker: its counter counts across requests',
    conf: 'location = /counter { content_by_js_file js/counter.mjs; }',
    requests: [1, 2, 3].map((n) => ({ path: '/counter', resBody: `count=${n}\n` })),
    once: true,
  },
  {
    name: 'a .ts handler file is transpiled on load',
    conf: 'location = /ts { content_by_js_file js/handler.ts; }',
    requests: [{ path: '/ts', status: 200, resBody: 'hello ts x2\n' }],
  },
  {
    name: 'an ES module handler imports a bare name from js_package_path',
    conf: 'location = /esm-lib { content_by_js_file js/esm-lib.mjs; }',
    requests: [{ path: '/esm-lib', resBody: 'hi esm\n' }],
  },
  {
    name: 'a TypeScript block is transpiled when it is not plain JavaScript',
    conf: 'location = /ts-block { content_by_js_block { interface P { n: number } const p: P = { n: 41 }; ngx.say((p.n + 1) as number) } }',
    requests: [{ path: '/ts-block', status: 200, resBody: '42\n' }],
  },
  {
    name: 'js_code_cache off re-imports the file on every request',
    conf: 'location = /nocache { js_code_cache off; content_by_js_file js/nocache.mjs; }',
    requests: [{ path: '/nocache', resBody: 'n=1\n' }, { path: '/nocache', resBody: 'n=1\n' }],
  },
  {
    name: 'js_code_cache off re-imports a .ts file too',
    conf: 'location = /nocache-ts { js_code_cache off; content_by_js_file js/nocache.ts; }',
    requests: [{ path: '/nocache-ts', resBody: 'ts n=1\n' }, { path: '/nocache-ts', resBody: 'ts n=1\n' }],
  },
  {
    name: 'an error in a handler file names the file and line',
    conf: 'location = /file-throws { content_by_js_file js/throws.mjs; }',
    requests: [{ path: '/file-throws', status: 500 }],
    errorLog: [/js entry thread aborted: runtime error: .*js\/throws\.mjs:3: TypeError: from file \(TRESTY_ERR_HANDLER\)\nstack traceback:/],
  },
  {
    name: 'an error in a .ts handler names the .ts file and line',
    conf: 'location = /ts-throws { content_by_js_file js/throws.ts; }',
    requests: [{ path: '/ts-throws', status: 500 }],
    errorLog: [/js entry thread aborted: runtime error: .*js\/throws\.ts:5: RangeError: ts line 1 \(TRESTY_ERR_HANDLER\)/],
  },
  {
    name: 'a CommonJS body filter file',
    conf: 'location = /cjs-filter { content_by_js_block { ngx.say("foo") } body_filter_by_js_file js/filter.js; }',
    requests: [{ path: '/cjs-filter', resBody: 'f00\n' }],
  },
  {
    name: 'require() in a block finds modules on js_package_path',
    conf: 'location = /require { content_by_js_block { ngx.say(require("mylib").greet("you")) } }',
    requests: [{ path: '/require', resBody: 'hi you\n' }],
  },
  {
    name: 'a block may import() modules',
    conf: 'location = /dyn-import { content_by_js_block { const os = await import("node:os"); ngx.say(typeof os.cpus) } }',
    requests: [{ path: '/dyn-import', resBody: 'function\n' }],
  },
  {
    name: 'init_by_js and init_worker_by_js ran in the worker before it served',
    conf: 'location = /init { content_by_js_block { ngx.say(globalThis.fromInit, " ", globalThis.workerStarted, " ", globalThis.ticks > 0) } }',
    requests: [{ path: '/init', resBody: 'init-ok 0 true\n' }],
  },
  {
    name: 'ngx.timer.at runs later with its arguments, premature=false, in its own context',
    conf: `location = /timer-set {
      content_by_js_block {
        globalThis.timerResult = "pending";
        const [ok] = ngx.timer.at(0.05, function (premature, a, b) {
          globalThis.timerResult = [a, b, premature, this.worker.id()].join(":");
          try { this.say("x") } catch (e) { globalThis.timerResult += " / " + e.message }
        }, "a", 7);
        ngx.say(ok, " ", ngx.timer.pending_count() >= 1);
      }
    }
    location = /timer-get { content_by_js_block { await ngx.sleep(0.15); ngx.say(globalThis.timerResult) } }`,
    requests: [
      { path: '/timer-set', resBody: 'true true\n' },
      { path: '/timer-get', resBody: 'a:7:false:0 / API disabled in the context of ngx.timer\n' },
    ],
  },
  {
    name: 'an error in a timer callback is logged; the worker goes on',
    conf: `location = /timer-throws { content_by_js_block { ngx.timer.at(0, () => { throw new Error("timer-boom") }); ngx.say("ok") } }`,
    requests: [{ path: '/timer-throws', resBody: 'ok\n' }, { path: '/counter-free', status: 404 }],
    errorLog: [/\[error\] .*js entry thread aborted: runtime error: .*Error: timer-boom \(TRESTY_ERR_HANDLER\)\n[^]*, context: ngx\.timer, client: 127\.0\.0\.1, server: 127\.0\.0\.1:\d+\n/],
  },
];

phaseSuite('handler files', {
  http: `js_package_path lib;
    init_by_js_block { globalThis.fromInit = "init-ok" }
    init_worker_by_js_block {
      globalThis.workerStarted = ngx.worker.id();
      ngx.timer.every(0.02, () => { globalThis.ticks = (globalThis.ticks || 0) + 1 });
    }`,
  files,
}, cases);

describe('handler files: changes and failures', () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(confFor(port, {}, [{
      name: 'x', requests: [],
      conf: 'location = /dev { js_code_cache off; content_by_js_file js/dev.mjs; }\nlocation = /prod { content_by_js_file js/prod.mjs; }\nlocation = /self { content_by_js_file js/self.mjs; }',
    }]), {
      files: {
        'js/dev.mjs': 'export default (ngx) => ngx.say("v1");\n',
        'js/prod.mjs': 'export default (ngx) => ngx.say("p1");\n',
        'js/self.mjs': 'import { ErrorCodes } from "tresty";\nexport default (ngx) => ngx.say(typeof ErrorCodes.TRESTY_ERR_HANDLER);\n',
      },
    });
  });
  afterAll(async () => { await t?.stop(); });

  it('a handler imports "tresty" from a prefix where it is not installed', async () => {
    expect((await httpGet(port, '/self')).body).toBe('string\n');
  });

  it('js_code_cache off picks up edits; a broken edit is a 500 with the load error logged', async () => {
    const write = (text: string): void => fs.writeFileSync(path.join(t.prefix, 'js/dev.mjs'), text);
    expect((await httpGet(port, '/dev')).body).toBe('v1\n');
    write('export default (ngx) => ngx.say("v2");\n');
    fs.writeFileSync(path.join(t.prefix, 'js/prod.mjs'), 'export default (ngx) => ngx.say("p2");\n');
    expect((await httpGet(port, '/dev')).body).toBe('v2\n');
    expect((await httpGet(port, '/prod')).body).toBe('p1\n'); // cached: the edit is not seen
    write('export default (ngx) => { ngx.say("v3" };\n');
    expect((await httpGet(port, '/dev')).status).toBe(500);
    await expect.poll(() => errorLogOf(t), { timeout: 3000 }).toMatch(/\*\d+ failed to load external js file "\S*js\/dev\.mjs": SyntaxError: [^\n]* \(TRESTY_ERR_HANDLER, TRESTY_ERR_CONF_HANDLER\), client: /);
    write('export default (ngx) => ngx.say("v4");\n');
    expect((await httpGet(port, '/dev')).body).toBe('v4\n');
  });

  it('a handler that fails to compile at start is a conf error naming FILE:LINE', async () => {
    const p = await freePort();
    const conf = confFor(p, {}, [{ name: 'x', requests: [], conf: 'location = /bad {\n content_by_js_block {\n  ngx.say("x"\n }\n}' }]);
    await expect(startTresty(conf)).rejects.toThrow(/content_by_js_block failed to compile: SyntaxError.* in .*nginx\.conf:\d+/);
    const conf2 = confFor(p, {}, [{ name: 'x', requests: [], conf: 'location = /bad { content_by_js_file js/missing.mjs; }' }]);
    await expect(startTresty(conf2)).rejects.toThrow(/content_by_js_file ".*missing\.mjs" failed to load/);
    const conf4 = confFor(p, {}, [{ name: 'x', requests: [], conf: 'location = /bad { content_by_js_file js/bad.ts; }' }]);
    await expect(startTresty(conf4, { files: { 'js/bad.ts': 'export default (ngx: any) => {\n  ngx.say(;\n};\n' } }))
      .rejects.toThrow(/content_by_js_file ".*bad\.ts" failed to load.*bad\.ts:2/);
    const conf3 = confFor(p, { http: 'init_by_js_block { throw new Error("init-broke") }' }, []);
    await expect(startTresty(conf3)).rejects.toThrow(/init_by_js error: .*nginx\.conf:\d+: Error: init-broke \(TRESTY_ERR_HANDLER\)/);
  }, 120_000); // four starts in turn: at load 12 they took over the default 30 s together
});

describe('handler files: tresty -t', () => {
  it('reports a handler file that fails to load, with the conf FILE:LINE', async () => {
    const prefix = makePrefix(confFor(1, {}, [{ name: 'x', requests: [], conf: 'location = /t { content_by_js_file js/t.mjs; }' }]),
      { 'js/t.mjs': 'export default (ngx) => { ngx.say( };\n' });
    try {
      const r = await runTresty(['-t', '-p', prefix, '-c', 'conf/nginx.conf']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/content_by_js_file ".*t\.mjs" failed to load.*SyntaxError.* in .*nginx\.conf:\d+/s);
      fs.writeFileSync(path.join(prefix, 'js/t.mjs'), 'export default (ngx) => ngx.say("ok");\n');
      expect((await runTresty(['-t', '-p', prefix, '-c', 'conf/nginx.conf'])).code).toBe(0);
    } finally {
      fs.rmSync(prefix, { recursive: true, force: true });
    }
  });
});

describe('handler files: module state is per worker', () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(confFor(port, { workers: 2 }, [{
      name: 'x', requests: [], conf: 'location = /w { content_by_js_file js/w.mjs; }',
    }]), { files: { 'js/w.mjs': 'let n = 0;\nexport default (ngx) => { n++; ngx.say(process.pid, " ", n); };\n' } });
  });
  afterAll(async () => { await t?.stop(); });

  it('each worker counts only its own requests', async () => {
    const seen = new Map<string, number[]>();
    for (let i = 0; i < 12; i++) {
      const [pid, n] = (await httpGet(port, '/w')).body.trim().split(' ');
      seen.set(pid!, [...(seen.get(pid!) ?? []), Number(n)]);
    }
    for (const counts of seen.values()) expect(counts).toEqual(counts.map((_, i) => i + 1));
  });
});

describe('handler files: js_code_cache off with CommonJS', () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(confFor(port, {}, [{
      name: 'x', requests: [], conf: 'location = /cjs { js_code_cache off; content_by_js_file js/c.js; }',
    }]), { files: { 'js/c.js': 'let n = 0;\nmodule.exports = (ngx) => { n++; ngx.say("c", n); };\n' } });
  });
  afterAll(async () => { await t?.stop(); });

  it('a CommonJS handler is reloaded too', async () => {
    expect((await httpGet(port, '/cjs')).body).toBe('c1\n');
    expect((await httpGet(port, '/cjs')).body).toBe('c1\n');
    fs.writeFileSync(path.join(t.prefix, 'js/c.js'), 'module.exports = (ngx) => ngx.say("edited");\n');
    expect((await httpGet(port, '/cjs')).body).toBe('edited\n');
  });
});
