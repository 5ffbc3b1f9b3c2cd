#!/usr/bin/env node
// The step protocol alone (src/phases/invoke.ts), in a plain process: ns of CPU per request for a
// sync content handler, one with an `await`, and rewrite + access + content chains, run by a loop
// that consumes step results the way phases/run.ts's advance() does. No server, no I/O: what a
// handler's run and its suspension cost by themselves. Two checkouts' builds (dist/) side by
// side, alternating rounds; B / A is the median of the per-round ratios.
//   node bench/invoke-steps.mjs [--a CHECKOUT] [--b CHECKOUT] [--rounds 5] [--n 200000]
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { argsOrUsage } from './lib/usage.mjs';
import { median } from './lib/stats.mjs';
import { ROOT } from './lib/tresty-dist.mjs';

const USAGE = 'usage: node bench/invoke-steps.mjs [--a CHECKOUT] [--b CHECKOUT] [--rounds N] [--n REQUESTS]';
const v = argsOrUsage(USAGE, {
  a: { type: 'string', default: ROOT }, b: { type: 'string', default: ROOT },
  rounds: { type: 'string', default: '5' }, n: { type: 'string', default: '200000' },
});
const N = Number(v.n);

async function side(root) {
  const dist = (p) => import(pathToFileURL(path.join(path.resolve(root), 'dist', 'src', p)).href);
  const { handlerStep } = await dist('phases/invoke.js');
  const { CTX } = await dist('request/context.js');
  const { NO_EXIT } = await dist('request/req.js');
  const { OK, DECLINED } = await dist('request/codes.js');
  const w = {};
  const loaded = (label, fn) => ({ spec: { source: 'block', ref: { file: 'bench', line: 1 } }, label, file: 'bench', fn, load: async () => fn, require: null });
  const step = (bit, label, fn) => handlerStep(loaded(label, fn), bit);
  const content = (fn) => step(CTX.content, 'content_by_js', fn);
  const resolved = Promise.resolve();
  const syncFn = (ngx) => { ngx.ctx = undefined; };
  const awaitFn = async () => { await resolved; };
  const chain = (fn) => [step(CTX.rewrite, 'rewrite_by_js', fn), step(CTX.access, 'access_by_js', fn), content(fn)];
  const cases = {
    'sync content': [content(syncFn)],
    'content, one await': [content(awaitFn)],
    'rewrite+access+content sync': chain(syncFn),
    'rewrite+access+content, one await each': chain(awaitFn),
    // As access.ts's satisfy loop and the filters' callers consume a step: through then().
    'content, one await, via then()': [((s) => (r) => { const rc = s(r); return typeof rc === 'number' ? rc : rc.then((x) => x); })(content(awaitFn))],
  };
  const newReq = () => ({
    w, phase: 0, call: null, lastHandler: '', exitCode: NO_EXIT, execUri: null, headerSent: false,
    loc: null, lengthless: false, ctx: undefined, steps: null, done: null,
  });
  // As run.ts's advance(): a number goes on at once, a waiting run (a checkout that has
  // phases/pending.ts) gets the continuation, anything else goes through one then().
  const stepDone = (x, r, at) => (x === OK || x === DECLINED ? advance(r, r.steps, at + 1, r.done) : r.done());
  const advance = (r, steps, i, done) => {
    for (; i < steps.length; i++) {
      const rc = steps[i](r);
      if (typeof rc !== 'number') {
        if (typeof rc.onto === 'function') {
          r.steps = steps;
          r.done = done;
          return rc.onto(stepDone, i);
        }
        const at = i;
        rc.then((x) => (x === OK || x === DECLINED ? advance(r, steps, at + 1, done) : done()), (e) => { throw e; });
        return;
      }
      if (rc !== OK && rc !== DECLINED) return done();
    }
    done();
  };
  /** Runs N requests one after another; resolves when the last is done. */
  const batch = (steps) => new Promise((resolve) => {
    let left = N;
    let inLoop = false;
    let again = false;
    const done = () => {
      if (--left === 0) return resolve();
      if (inLoop) again = true;
      else loop();
    };
    const loop = () => {
      do {
        again = false;
        inLoop = true;
        advance(newReq(), steps, 0, done);
        inLoop = false;
      } while (again);
    };
    loop();
  });
  return { cases, batch };
}

const A = await side(v.a);
const B = await side(v.b);

async function nsPerReq(s, name) {
  const c0 = process.cpuUsage();
  await s.batch(s.cases[name]);
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / N;
}

const rows = [];
for (const name of Object.keys(A.cases)) {
  for (const s of [A, B]) await nsPerReq(s, name); // warm-up
  const got = { a: [], b: [] };
  const ratios = [];
  for (let i = 0; i < Number(v.rounds); i++) {
    const order = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
    const round = {};
    for (const k of order) round[k] = await nsPerReq(k === 'a' ? A : B, name);
    got.a.push(round.a);
    got.b.push(round.b);
    ratios.push(round.b / round.a);
  }
  rows.push({
    case: name, 'A ns/req': median(got.a).toFixed(0), 'B ns/req': median(got.b).toFixed(0),
    'B / A': `${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)})`,
  });
}
console.table(rows);
