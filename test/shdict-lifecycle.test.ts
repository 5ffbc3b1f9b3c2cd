// js_shared_dict zones over tresty's life: init_by_js in the master fills a zone the workers
// read; a respawned worker does not reset it; a reload keeps a zone whose name and size are
// unchanged (as nginx does) and replaces one whose size changed; stopping removes the segments,
// and a master killed without cleaning up has its segments removed by the next one; `-t`
// checks the directive.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_SHDICT, OPS_HANDLER, op } from './helpers/shdict.js';
import { freePort, makePrefix, runTresty, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';

afterEach(async () => { await stopAll(); });

const SHM = process.env.TRESTY_SHM_DIR ?? '/dev/shm';

/** The master's zone segments; its stub_status page (`.0.status`, every master has one) apart. */
function segments(masterPid: number): string[] {
  return fs.readdirSync(SHM).filter((f) => f.startsWith(`tresty.${masterPid}.`) && f !== statusPage(masterPid)).sort();
}

const statusPage = (masterPid: number): string => `tresty.${masterPid}.0.status`;
const hasStatusPage = (masterPid: number): boolean => fs.existsSync(path.join(SHM, statusPage(masterPid)));

const conf = (port: number, zones: string, init = ''): string => `
worker_processes 2;
error_log logs/error.log info;
events {}
http {
  access_log off;
  ${zones}
  ${init}
  server {
    listen 127.0.0.1:${port};
    location = /ops { content_by_js_file ops.mjs; }
  }
}`;

const INIT = `init_by_js_block {
    ngx.shared.cache.set('config', 'v1');
    ngx.shared.cache.incr('boots', 1, 0);
  }`;

async function reload(t: TrestyProcess, text: string): Promise<void> {
  t.writeConf(text);
  const seen = t.events.length;
  t.child.kill('SIGHUP');
  const e = await t.waitFor((ev) => (ev.tresty === 'reloaded' || ev.tresty === 'reload-failed') && t.events.indexOf(ev) >= seen, { timeoutMs: 40_000 });
  expect(e.tresty, String(e.message)).toBe('reloaded');
}

describe.skipIf(Boolean(NO_SHDICT))(`js_shared_dict over tresty's life${NO_SHDICT}`, () => {
  it('init_by_js in the master fills the zone once; a respawned worker does not reset it', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port, 'js_shared_dict cache 1m;', INIT), { files: { 'ops.mjs': OPS_HANDLER } });
    expect((await op(port, 'cache', 'get', 'config')).r).toEqual(['v1', null]);
    // init_by_js ran in the master and again in both workers; only the master's run wrote.
    expect((await op(port, 'cache', 'get', 'boots')).r).toEqual([1, null]);
    await op(port, 'cache', 'set', 'config', 'v2');
    const ready = await t.waitFor((e) => e.tresty === 'ready', { past: true });
    const victim = (ready.workers as number[])[0]!;
    process.kill(victim, 'SIGKILL');
    await t.waitFor((e) => e.tresty === 'worker-ready' && e.pid !== victim && !(ready.workers as number[]).includes(e.pid as number), { timeoutMs: 40_000 });
    for (let i = 0; i < 4; i++) expect((await op(port, 'cache', 'get', 'config')).r).toEqual(['v2', null]);
    expect((await op(port, 'cache', 'get', 'boots')).r).toEqual([1, null]);
  }, 90_000);

  it('a reload keeps a zone of unchanged name and size, replaces a resized one, drops a removed one', async () => {
    const port = await freePort();
    const zones = 'js_shared_dict cache 1m; js_shared_dict other 64k; js_shared_dict gone 64k;';
    const t = await startTresty(conf(port, zones, INIT), { files: { 'ops.mjs': OPS_HANDLER } });
    await op(port, 'cache', 'set', 'x', 'kept');
    await op(port, 'other', 'set', 'y', 'lost');
    const before = segments(t.pid);
    expect(before).toHaveLength(3);

    await reload(t, conf(port, 'js_shared_dict cache 1m; js_shared_dict other 128k;', INIT));
    expect((await op(port, 'cache', 'get', 'x')).r).toEqual(['kept', null]);
    expect((await op(port, 'cache', 'get', 'boots')).r).toEqual([2, null]); // the master's init_by_js ran again
    expect((await op(port, 'other', 'get', 'y')).r).toEqual([null, null]);
    expect((await op(port, 'other', 'capacity')).r).toBe(128 * 1024);
    expect((await op(port, 'gone', 'get', 'x')).r).toEqual({ missing: 'gone' });
    const after = segments(t.pid);
    expect(after).toHaveLength(2);
    expect(after).toContain(before.find((f) => f.endsWith('.cache')));

    // A reload whose conf is bad keeps everything as it was.
    t.writeConf(conf(port, 'js_shared_dict cache 2k;', INIT));
    const seen = t.events.length;
    t.child.kill('SIGHUP');
    await t.waitFor((e) => e.tresty === 'reload-failed' && t.events.indexOf(e) >= seen, { timeoutMs: 40_000 });
    expect(segments(t.pid)).toEqual(after);
    expect((await op(port, 'cache', 'get', 'x')).r).toEqual(['kept', null]);
  }, 90_000);

  it('stopping removes the segments; those of a killed master are removed by the next start', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port, 'js_shared_dict a 64k; js_shared_dict b 64k;'), { files: { 'ops.mjs': OPS_HANDLER } });
    const pid = t.pid;
    expect(segments(pid)).toHaveLength(2);
    expect(hasStatusPage(pid)).toBe(true);
    await t.stop();
    expect(segments(pid)).toEqual([]);
    expect(hasStatusPage(pid)).toBe(false);

    const port2 = await freePort();
    const k = await startTresty(conf(port2, 'js_shared_dict a 64k;'), { files: { 'ops.mjs': OPS_HANDLER } });
    const killed = k.pid;
    expect(segments(killed)).toHaveLength(1);
    k.child.kill('SIGKILL');
    await k.exited;
    await k.stop(); // its workers
    expect(segments(killed)).toHaveLength(1); // nobody cleaned up
    expect(hasStatusPage(killed)).toBe(true);

    const port3 = await freePort();
    const n = await startTresty(conf(port3, 'js_shared_dict a 64k;'), { files: { 'ops.mjs': OPS_HANDLER } });
    expect(segments(killed)).toEqual([]);
    expect(hasStatusPage(killed)).toBe(false);
    expect(segments(n.pid)).toHaveLength(1);
  }, 90_000);

  it('each master has its own zones', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    await startTresty(conf(p1, 'js_shared_dict cache 64k;'), { files: { 'ops.mjs': OPS_HANDLER } });
    await startTresty(conf(p2, 'js_shared_dict cache 64k;'), { files: { 'ops.mjs': OPS_HANDLER } });
    await op(p1, 'cache', 'set', 'who', 'one');
    expect((await op(p2, 'cache', 'get', 'who')).r).toEqual([null, null]);
  }, 90_000);
});

describe('tresty -t and js_shared_dict', () => {
  const cases: [string, string, RegExp][] = [
    ['a zone too small', 'js_shared_dict a 8k;', /invalid js_shared_dict size "8k": the smallest zone is 16k in .*nginx\.conf:5/],
    ['a zone too large', 'js_shared_dict a 5g;', /invalid js_shared_dict size "5g": the largest zone is 4095m in .*nginx\.conf:5/],
    ['a bad size', 'js_shared_dict a 12q;', /invalid value "12q" in "js_shared_dict" directive in .*nginx\.conf:5/],
    ['a bad name', 'js_shared_dict a/b 1m;', /invalid js_shared_dict name "a\/b" in .*nginx\.conf:5/],
    ['a duplicate', 'js_shared_dict a 1m; js_shared_dict a 2m;', /js_shared_dict "a" is already defined in .*nginx\.conf:5/],
    ['one argument', 'js_shared_dict a;', /invalid number of arguments in "js_shared_dict" directive in .*nginx\.conf:5/],
  ];
  for (const [name, line, msg] of cases) {
    it(`fails on ${name} with FILE:LINE`, async () => {
      const prefix = makePrefix(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;\n  ${line}\n}\n`);
      try {
        const r = await runTresty(['-p', prefix, '-t']);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(msg);
        expect(r.stderr).toMatch(/test failed/);
      } finally {
        fs.rmSync(prefix, { recursive: true, force: true });
      }
    });
  }

  it('is not allowed in server', async () => {
    const prefix = makePrefix('events {}\nhttp {\n  server {\n    js_shared_dict a 1m;\n  }\n}\n');
    try {
      const r = await runTresty(['-p', prefix, '-t']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/"js_shared_dict" directive is not allowed here in .*nginx\.conf:4/);
    } finally {
      fs.rmSync(prefix, { recursive: true, force: true });
    }
  });

  it.skipIf(Boolean(NO_SHDICT))(`accepts a good one and creates nothing${NO_SHDICT}`, async () => {
    const prefix = makePrefix('events {}\nhttp {\n  js_shared_dict a 1m;\n}\n');
    // A folder of its own: /dev/shm is shared with the test files running beside this one.
    const shm = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-shm-'));
    try {
      const r = await runTresty(['-p', prefix, '-t'], { env: { TRESTY_SHM_DIR: shm } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/test is successful/);
      expect(fs.readdirSync(shm)).toEqual([]);
      expect(fs.existsSync(path.join(prefix, 'logs', 'tresty.pid'))).toBe(false);
    } finally {
      fs.rmSync(prefix, { recursive: true, force: true });
      fs.rmSync(shm, { recursive: true, force: true });
    }
  });
});
