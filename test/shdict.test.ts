// ngx.shared.DICT through the real server with 2 workers: every operation and its errors, as
// lua-resty-core answers them (the expected values were taken from Debian's nginx + lua-nginx-
// module 0.10.23 running the same calls), memory pressure (LRU eviction, forcible, safe_*),
// expiry with millisecond precision, and every phase, timers and init_worker_by_js.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_SHDICT, OPS_HANDLER, op, opsConns, runOps } from './helpers/shdict.js';
import { freePort, httpGet, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';

let t: TrestyProcess;
let port: number;

beforeAll(async () => {
  if (NO_SHDICT) return;
  port = await freePort();
  t = await startTresty(`
worker_processes 2;
error_log logs/error.log info;
events {}
http {
  access_log off;
  js_shared_dict d 1m;
  js_shared_dict tiny 32k;
  js_shared_dict phases 64k;
  init_worker_by_js_block { ngx.shared.phases.set('init_worker:' + ngx.worker.id(), ngx.worker.pid()); }
  server {
    listen 127.0.0.1:${port};
    location = /ops { content_by_js_file ops.mjs; }
    location = /phases {
      set_by_js_block $unused { ngx.shared.phases.incr('set', 1, 0); return ''; }
      rewrite_by_js_block { ngx.shared.phases.incr('rewrite', 1, 0); }
      access_by_js_block { ngx.shared.phases.incr('access', 1, 0); }
      content_by_js_block {
        ngx.shared.phases.incr('content', 1, 0);
        ngx.timer.at(0, function () { this.shared.phases.incr('timer', 1, 0); });
        ngx.say('ok');
      }
      header_filter_by_js_block { ngx.shared.phases.incr('header_filter', 1, 0); }
      body_filter_by_js_block { if (ngx.arg[2]) ngx.shared.phases.incr('body_filter', 1, 0); }
      log_by_js_block { ngx.shared.phases.incr('log', 1, 0); }
    }
  }
}`, { files: { 'ops.mjs': OPS_HANDLER } });
});

afterAll(async () => { await stopAll(); });

type Step = [method: string, args: unknown[], expected: unknown];

const NO_KEY = new Set(['flush_all', 'flush_expired', 'get_keys', 'capacity', 'free_space']);

// Each case runs twice (STYLE 12) under a fresh key prefix; every step is its own request, and
// consecutive steps run on different workers.
const CASES: Record<string, Step[]> = {
  'set and get, with flags and every value type': [
    ['get', ['s'], [null, null]],
    ['set', ['s', 'v', 0, 7], [true, null, false]],
    ['get', ['s'], ['v', 7]],
    ['get_stale', ['s'], ['v', 7, false]],
    ['set', ['s', 'longer value'], [true, null, false]],
    ['get', ['s'], ['longer value', null]],
    ['set', ['b', false, 0, 7], [true, null, false]],
    ['get', ['b'], [false, 7]],
    ['set', ['b', true], [true, null, false]],
    ['get', ['b'], [true, null]],
    ['set', ['n', 1.5], [true, null, false]],
    ['get', ['n'], [1.5, null]],
    ['set', ['u', 'héllo wörld 🌍'], [true, null, false]],
    ['get', ['u'], ['héllo wörld 🌍', null]],
    ['set', ['e', ''], [true, null, false]],
    ['get', ['e'], ['', null]],
    ['set', ['s', null], [true, null, false]],
    ['get', ['s'], [null, null]],
  ],
  'add, replace, delete': [
    ['add', ['a', 1], [true, null, false]],
    ['add', ['a', 2], [false, 'exists', false]],
    ['get', ['a'], [1, null]],
    ['replace', ['a', 3], [true, null, false]],
    ['get', ['a'], [3, null]],
    ['replace', ['missing', 1], [false, 'not found', false]],
    ['safe_add', ['a', 1], [false, 'exists', false]],
    ['add', ['n', null], [false, 'attempt to add or replace nil values', false]],
    ['replace', ['a', null], [false, 'attempt to add or replace nil values', false]],
    ['delete', ['missing'], [true, null, false]],
    ['delete', ['a'], [true, null, false]],
    ['get', ['a'], [null, null]],
    ['safe_set', ['a', 'x'], [true, null, false]],
    ['get', ['a'], ['x', null]],
  ],
  'incr': [
    ['incr', ['c', 1], [null, 'not found', null]],
    ['incr', ['c', 1, 10], [11, null, false]],
    ['incr', ['c', 1, 10], [12, null, false]],
    ['incr', ['c', -2.5], [9.5, null, null]],
    ['set', ['str', 'x'], [true, null, false]],
    ['incr', ['str', 1], [null, 'not a number', null]],
    ['incr', ['i', 1, 0, 0.5], [1, null, false]],
    ['incr', ['i', 1, 0, 0.5], [2, null, false]],
  ],
  'lists': [
    ['set', ['str', 'x'], [true, null, false]],
    ['lpush', ['str', 1], [null, 'value not a list']],
    ['llen', ['str'], [null, 'value not a list']],
    ['lpop', ['str'], [null, 'value not a list']],
    ['llen', ['l'], [0, null]],
    ['lpop', ['l'], [null, null]],
    ['lpush', ['l', 'x'], [1, null]],
    ['rpush', ['l', 2], [2, null]],
    ['lpush', ['l', 'first'], [3, null]],
    ['llen', ['l'], [3, null]],
    ['get', ['l'], [null, 'value is a list']],
    ['incr', ['l', 1], [null, 'not a number', null]],
    ['lpop', ['l'], ['first', null]],
    ['rpop', ['l'], [2, null]],
    ['lpop', ['l'], ['x', null]],
    ['lpop', ['l'], [null, null]],
    ['llen', ['l'], [0, null]],
    ['lpush', ['l', true], [null, 'bad value type']],
    ['set', ['l', 'now a string'], [true, null, false]],
    ['rpush', ['l2', 'a'], [1, null]],
    ['set', ['l2', 'replaced'], [true, null, false]],
    ['get', ['l2'], ['replaced', null]],
  ],
  'ttl and expire': [
    ['ttl', ['missing'], [null, 'not found']],
    ['set', ['x', 1], [true, null, false]],
    ['ttl', ['x'], [0, null]],
    ['expire', ['missing', 10], [null, 'not found']],
    ['expire', ['x', 100], [true, null]],
    ['expire', ['x', 0], [true, null]],
    ['ttl', ['x'], [0, null]],
  ],
  'bad keys and values': [
    ['get', [null], [null, 'nil key']],
    ['get', [''], [null, 'empty key']],
    ['set', ['', 1], [null, 'empty key', null]],
    ['set', [null, 1], [null, 'nil key', null]],
    ['set', ['x'.repeat(65536), 1], [null, 'key too long', null]],
    ['incr', ['', 1], [null, 'empty key', null]],
    ['set', ['o', { a: 1 }], [null, 'bad value type', null]],
    ['set', ['o', [1]], [null, 'bad value type', null]],
    ['set', ['x', 1, -1], { threw: 'bad "exptime" argument', code: 'TRESTY_ERR_API_ARGS' }],
    ['incr', ['x', 'abc'], { threw: 'bad value arg: number expected, got string', code: 'TRESTY_ERR_API_ARGS' }],
    ['incr', ['x', 1, null, 5], { threw: 'must provide "init" when providing "init_ttl"', code: 'TRESTY_ERR_API_ARGS' }],
    ['expire', ['x'], { threw: 'bad "exptime" argument', code: 'TRESTY_ERR_API_ARGS' }],
  ],
};

describe.skipIf(Boolean(NO_SHDICT))(`ngx.shared.DICT operations across 2 workers${NO_SHDICT}`, () => {
  for (const [name, steps] of Object.entries(CASES)) {
    it(name, async () => {
      // The steps go to the two workers in turn, each on a connection kept on one of them.
      const conns = await opsConns(port, 2);
      try {
        for (const run of ['one', 'two']) {
          const pids = new Set<number>();
          for (const [i, [method, args, expected]] of steps.entries()) {
            const keyed = NO_KEY.has(method) || typeof args[0] !== 'string' || args[0] === '' ? args : [`${run}:${name}:${args[0]}`, ...args.slice(1)];
            const { pid, out } = await runOps(port, [['d', method, keyed]], conns[i % 2]);
            pids.add(pid);
            expect(out[0], `${run}: ${method}(${JSON.stringify(args).slice(0, 60)})`).toEqual(expected);
          }
          expect(pids.size, 'both workers took part').toBe(2);
        }
      } finally {
        for (const c of conns) c.close();
      }
    });
  }

  it('a numeric key is its string (Lua tostring)', async () => {
    await op(port, 'd', 'set', 42, 'n');
    expect((await op(port, 'd', 'get', '42')).r).toEqual(['n', null]);
  });

  it('get_keys: 1024 by default, 0 for all, least recently used first; flush_all; flush_expired', async () => {
    const ops: [string, string, unknown[]][] = [['d', 'flush_all', []], ['d', 'flush_expired', []]];
    for (let i = 0; i < 1100; i++) ops.push(['d', 'set', [`key${i}`, i]]);
    ops.push(['d', 'get_keys', []], ['d', 'get_keys', [0]], ['d', 'get_keys', [3]]);
    const { out } = await runOps(port, ops);
    const [dflt, all, three] = out.slice(-3) as string[][];
    expect(dflt).toHaveLength(1024);
    expect(all).toHaveLength(1100);
    expect(three).toEqual(['key0', 'key1', 'key2']);
    const after = await runOps(port, [
      ['d', 'set', ['exp1', 1, 0.001]], ['d', 'set', ['exp2', 1, 0.001]], ['d', 'sleep', [0.01]],
      ['d', 'flush_expired', [1]], ['d', 'flush_expired', []],
      ['d', 'flush_all', []], ['d', 'get', ['key5']], ['d', 'get_keys', [0]], ['d', 'flush_expired', []], ['d', 'flush_expired', []],
    ]);
    // As lua-nginx-module: flush_all frees the LRU tail and two more expired entries at once,
    // the next get two more; flush_expired the rest.
    expect(after.out.slice(3)).toEqual([1, 1, null, [null, null], [], 1095, 0]);
  });

  it('capacity is the zone size; free_space falls as it fills', async () => {
    const { out } = await runOps(port, [['tiny', 'capacity', []], ['tiny', 'flush_all', []], ['tiny', 'flush_expired', []],
      ['tiny', 'free_space', []], ['tiny', 'set', ['big', 'x'.repeat(4000)]], ['tiny', 'free_space', []]]);
    const [cap, , , before, , after] = out as number[];
    expect(cap).toBe(32 * 1024);
    expect(before).toBeLessThan(cap);
    expect(before - (after as number)).toBeGreaterThanOrEqual(4000);
  });
});

describe.skipIf(Boolean(NO_SHDICT))('memory pressure', () => {
  it('set evicts the least recently used entries and says forcible; safe_set and safe_add refuse', async () => {
    const ops: [string, string, unknown[]][] = [['tiny', 'flush_all', []], ['tiny', 'flush_expired', []], ['tiny', 'set', ['keep', 'k']]];
    for (let i = 0; i < 400; i++) {
      ops.push(['tiny', 'set', [`k${i}`, 'v'.repeat(100)]]);
      if (i % 20 === 0) ops.push(['tiny', 'get', ['keep']]); // used often: stays
    }
    ops.push(['tiny', 'get_keys', [0]], ['tiny', 'safe_set', ['new', 'v'.repeat(100)]], ['tiny', 'safe_add', ['new2', 'v'.repeat(100)]],
      ['tiny', 'get', ['new']], ['tiny', 'set', ['huge', 'v'.repeat(40000)]], ['tiny', 'get', ['keep']]);
    const { out } = await runOps(port, ops);
    const sets = out.filter((r) => Array.isArray(r) && r.length === 3 && r[0] === true) as [boolean, null, boolean][];
    const firstForced = sets.findIndex((r) => r[2]);
    expect(firstForced).toBeGreaterThan(50); // 32k holds more than 50 of them
    expect(sets.slice(firstForced).every((r) => r[2])).toBe(true); // full from then on: every set evicts
    const [keys, safeSet, safeAdd, getNew, huge, keep] = out.slice(-6) as unknown[];
    expect(keys).toContain('keep');
    expect(keys).toContain('k399');
    expect(keys).not.toContain('k0');
    expect((keys as string[]).length).toBeLessThan(firstForced + 1);
    expect(safeSet).toEqual([false, 'no memory', false]);
    expect(safeAdd).toEqual([false, 'no memory', false]);
    expect(getNew).toEqual([null, null]);
    expect((huge as unknown[]).slice(0, 2)).toEqual([false, 'no memory']);
    expect(keep).toEqual(['k', null]);
  });

  it('incr with init evicts too; lpush answers "no memory" without evicting', async () => {
    const ops: [string, string, unknown[]][] = [['tiny', 'flush_all', []], ['tiny', 'flush_expired', []]];
    for (let i = 0; i < 400; i++) ops.push(['tiny', 'set', [`k${i}`, 'v'.repeat(100)]]);
    ops.push(['tiny', 'incr', ['counter', 1, 0]], ['tiny', 'lpush', ['list', 'v'.repeat(30000)]], ['tiny', 'get', ['list']]);
    const { out } = await runOps(port, ops);
    expect(out.at(-3)).toEqual([1, null, true]);
    // nil, not false: the list's entry found room, its element did not (nginx 1.22 + lua answers
    // the same calls so; false is for an entry that finds none: compat-shdict-fuzz).
    expect(out.at(-2)).toEqual([null, 'no memory']);
    expect(out.at(-1)).toEqual([null, null]);
  });
});

describe.skipIf(Boolean(NO_SHDICT))('expiry', () => {
  it('a value expires after exptime, with millisecond precision; get_stale still sees it', async () => {
    const { out } = await runOps(port, [
      ['d', 'flush_all', []], ['d', 'flush_expired', []],
      ['d', 'set', ['old', 'stays']], // the LRU tail, so that reads do not reclaim 'e'
      ['d', 'set', ['e', 'soon', 0.05, 3]], ['d', 'ttl', ['e']], ['d', 'get', ['e']],
      ['d', 'sleep', [0.08]],
      ['d', 'get', ['e']], ['d', 'get_stale', ['e']], ['d', 'ttl', ['e']],
      ['d', 'add', ['e', 'again']], ['d', 'get', ['e']],
    ]);
    const ttl = out[4] as [number, null];
    expect(ttl[0]).toBeGreaterThan(0.03);
    expect(ttl[0]).toBeLessThanOrEqual(0.05);
    expect(Math.round(ttl[0] * 1000)).toBe(ttl[0] * 1000); // whole milliseconds
    expect(out[5]).toEqual(['soon', 3]);
    expect(out[7]).toEqual([null, null]);
    expect(out[8]).toEqual(['soon', 3, true]);
    // As lua-nginx-module: an expired entry not reclaimed yet has a negative ttl.
    expect((out[9] as [number])[0]).toBeLessThan(0);
    expect(out[10]).toEqual([true, null, false]); // add over an expired value
    expect(out[11]).toEqual(['again', null]);
  });

  it('incr with init_ttl gives a new counter an expiry', async () => {
    const { out } = await runOps(port, [['d', 'incr', ['ittl', 1, 0, 0.5]], ['d', 'ttl', ['ittl']], ['d', 'incr', ['ittl', 1, 0, 5]], ['d', 'ttl', ['ittl']]]);
    expect(out[0]).toEqual([1, null, false]);
    expect((out[1] as [number])[0]).toBeGreaterThan(0.45);
    expect((out[1] as [number])[0]).toBeLessThanOrEqual(0.5);
    expect(out[2]).toEqual([2, null, false]);
    expect((out[3] as [number])[0]).toBeLessThanOrEqual(0.5); // init_ttl applies to a new counter only
  });

  it('expire() changes the time left; exptime is truncated to whole milliseconds', async () => {
    const { out } = await runOps(port, [
      ['d', 'set', ['m', 1, 0.0015]], ['d', 'ttl', ['m']],
      ['d', 'set', ['x', 1]], ['d', 'expire', ['x', 0.02]], ['d', 'sleep', [0.04]], ['d', 'get', ['x']],
    ]);
    expect((out[1] as [number])[0]).toBeLessThanOrEqual(0.001);
    expect(out[5]).toEqual([null, null]);
  });
});

describe.skipIf(Boolean(NO_SHDICT))('every context', () => {
  it('init_worker_by_js, set, rewrite, access, content, header_filter, body_filter, log and timers share the zone', async () => {
    for (let i = 0; i < 4; i++) expect((await httpGet(port, '/phases')).body).toBe('ok\n');
    const names = ['set', 'rewrite', 'access', 'content', 'header_filter', 'body_filter', 'log', 'timer'];
    // log and timer run after the answer: wait for them, bounded.
    const deadline = Date.now() + 5000;
    let out: unknown[] = [];
    while (Date.now() < deadline) {
      ({ out } = await runOps(port, names.map((n) => ['phases', 'get', [n]])));
      if (out.every((r) => (r as [number])[0] === 4)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(out).toEqual(names.map(() => [4, null]));
    const workers = await runOps(port, [['phases', 'get', ['init_worker:0']], ['phases', 'get', ['init_worker:1']]]);
    const pids = workers.out.map((r) => (r as [number])[0]);
    expect(new Set(pids).size).toBe(2);
    expect(pids.every((p) => typeof p === 'number' && p > 0)).toBe(true);
  });

  it('ngx.shared names only the conf\'s zones', async () => {
    const r = await op(port, 'nope', 'get', 'x');
    expect(r.r).toEqual({ missing: 'nope' });
  });
});
