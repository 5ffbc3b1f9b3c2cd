// A process killed while it holds a zone's lock must not block the others, and the zone must stay
// whole: the lock is a robust mutex, and its next owner undoes the dead owner's half-done step
// (native/shdict/shd_layout.h). Two levels: the C stress program (many writer processes, many
// kills, invariants checked after every few), and real tresty workers SIGKILLed in a tight write
// loop while the other worker keeps serving.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, ROOT, startTresty, stopAll } from './helpers/server.js';
import { NO_SHDICT } from './helpers/shdict.js';

afterAll(async () => { await stopAll(); });

const SHM = process.env.TRESTY_SHM_DIR ?? '/dev/shm';
const STRESS = path.join(ROOT, 'native', 'build', 'shdict', 'tresty-shdict-stress');

describe('the zone survives processes killed holding its lock', () => {
  it('C: writers SIGKILLed at random moments, invariants checked every 5 kills', async () => {
    const seg = path.join(SHM, `tresty-stress-${process.pid}`);
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      // Its writers burn both cores: at the lowest priority, so other test files running now
      // (and the machine's other work) are not starved into timeouts.
      const c = spawn('nice', ['-n', '19', STRESS, seg, '150', '3']);
      let out = '';
      let err = '';
      c.stdout.on('data', (d: Buffer) => { out += d; });
      c.stderr.on('data', (d: Buffer) => { err += d; });
      c.on('close', (code) => resolve({ code, out, err }));
    });
    fs.rmSync(seg, { force: true });
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out) as { recoveries: number; rollbacks: number; resets: number; ok: boolean };
    expect(s.ok).toBe(true);
    expect(s.resets).toBe(0); // every interrupted step was undone exactly
    expect(s.recoveries).toBeGreaterThan(0);
    expect(s.rollbacks).toBeGreaterThan(0);
  }, 120_000);

  it.skipIf(Boolean(NO_SHDICT))(`tresty: a worker SIGKILLed in a tight write loop, again and again; the other goes on${NO_SHDICT}`, async () => {
    const port = await freePort();
    const t = await startTresty(`
worker_processes 2;
error_log logs/error.log info;
events {}
http {
  access_log off;
  js_shared_dict z 4m;
  server {
    listen 127.0.0.1:${port};
    location = /hammer { content_by_js_file hammer.mjs; }
    location = /ping {
      content_by_js_block {
        const d = ngx.shared.z;
        d.set('ping', ngx.worker.pid());
        ngx.say(d.get('ping')[0], ' ', d.incr('pings', 1, 0)[0]);
      }
    }
    location = /check {
      content_by_js_block { ngx.say(JSON.stringify({ check: ngx.shared.z.check(), stats: ngx.shared.z.stats() })); }
    }
  }
}`, {
      files: {
        // Writes a marker once it is in the loop, then writes for ?ms as fast as it can. Most
        // of it grows one long list, deleted whenever it passes 30000 elements: deleting frees
        // one element per logged step inside the lock, so a kill often lands mid-step. Counters
        // and values of every size (evicting) come in between.
        'hammer.mjs': `
import fs from 'node:fs';
export default (ngx) => {
  const d = ngx.shared.z;
  fs.writeFileSync(ngx.config.prefix() + 'logs/hammer.' + process.pid, '');
  const until = Date.now() + Number(ngx.var.arg_ms);
  let n = 0, x = process.pid, pushed = d.llen('L')[0] ?? 0;
  const VALUES = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => 'v'.repeat(i * 377));
  while (Date.now() < until) {
    for (let i = 0; i < 100; i++, n++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const r = x % 100;
      if (r < 85) { d.rpush('L', 'x'); pushed++; }
      else if (r < 93) d.incr('c' + (x % 2000), 1, 0);
      else if (r < 98) d.set('v' + (x % 50), VALUES[x % 8], (x % 3) * 0.01);
      else d.get('c' + (x % 2000));
      if (pushed > 30000) { d.delete('L'); pushed = 0; }
    }
  }
  ngx.say(n);
};`,
      },
    });
    // The hammers burn both cores: a low priority (nice 10) for the workers that run them, each set
    // once it is ready (below). Not the master, so not a worker it forks while that starts. Not 19:
    // beside a CPU hog per core a worker at nice 19 got ~1.5% of a core, took over 60 s to be
    // ready, and was so late to take the second hammer that the first had ended before the kill.
    const lowered = new Set<number>();
    const lower = (): void => {
      for (const e of t.events) {
        if (e.tresty !== 'worker-ready' || lowered.has(e.pid as number)) continue;
        lowered.add(e.pid as number);
        try { os.setPriority(e.pid as number, 10); } catch { /* gone already */ }
      }
    };
    const logs = path.join(t.prefix, 'logs');
    const markers = (): number[] => fs.readdirSync(logs).filter((f) => f.startsWith('hammer.')).map((f) => Number(f.split('.')[1]));
    const spawnedAt = new Map<number, number>();
    const age = (pid: number): number => Date.now() - (spawnedAt.get(pid) ?? 0);
    let stats = { recoveries: 0, rollbacks: 0, resets: 0 };
    let kills = 0;
    for (kills = 1; kills <= 60; kills++) {
      for (const e of t.events) if (e.tresty === 'worker-spawn') spawnedAt.set(e.pid as number, e.receivedAt!);
      lower();
      for (const f of fs.readdirSync(logs).filter((n) => n.startsWith('hammer.'))) fs.rmSync(path.join(logs, f));
      // Both workers hammer the zone at once. Which worker accepts a connection is a race (the
      // native engine's workers all wake and the first accepts, as nginx's without accept_mutex),
      // so the second hammer is sent once the first has started: its worker, stuck in the loop,
      // accepts nothing, and the other one takes it. The first runs longer, to overlap the second.
      const hammer = (ms: number): Promise<{ status: number; body: string } | Error> =>
        httpGet(port, `/hammer?ms=${ms}`, { timeoutMs: 15_000 }).catch((e: Error) => e);
      const started = async (n: number): Promise<void> => {
        const deadline = Date.now() + 10_000;
        while (markers().length < n) {
          if (Date.now() > deadline) throw new Error(`the hammers never started: ${markers()}`);
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      const hammers = [hammer(2000)];
      await started(1);
      hammers.push(hammer(1500));
      await started(2);
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 600)); // into their steady state
      // Kill the older one: the master counts a worker dying within 2 s of its start as a
      // failed start (and gives up after 5), which is not what this test is about.
      const [a, b] = markers() as [number, number];
      const victim = age(a) >= age(b) ? a : b;
      const seen = t.events.length;
      process.kill(victim, 'SIGKILL');
      // The other worker goes on: its loop takes the zone's lock thousands of times more and
      // finishes (a lock held by the dead worker would block it for good).
      const done = await Promise.all(hammers);
      expect(done.filter((r) => r instanceof Error)).toHaveLength(1);
      const survivor = done.find((r) => !(r instanceof Error)) as { status: number; body: string };
      expect(survivor.status).toBe(200);
      expect(Number(survivor.body)).toBeGreaterThan(0);
      // On a loaded machine a new worker can take well over 20 s to be ready.
      await t.waitFor((e) => e.tresty === 'worker-ready' && t.events.indexOf(e) >= seen, { past: true, timeoutMs: 60_000 });
      const c = JSON.parse((await httpGet(port, '/check')).body) as { check: string | null; stats: typeof stats };
      expect(c.check, `after ${kills} kills`).toBeNull();
      stats = c.stats;
      if (process.env.TRESTY_TEST_VERBOSE) console.log(kills, stats);
      // Enough when kills have landed inside the lock, one of them in the middle of a write.
      if (kills >= 3 && stats.recoveries >= 2 && stats.rollbacks >= 1) break;
    }
    expect(stats.recoveries).toBeGreaterThanOrEqual(2);
    expect(stats.rollbacks).toBeGreaterThanOrEqual(1);
    expect(stats.resets).toBe(0);
    // Both workers (one of them respawned) serve and agree.
    // Which worker takes each new connection is a race: ask until both answered (a worker that
    // could not answer would time the request out; one that is gone never shows).
    const pids = new Set<number>();
    const deadline = Date.now() + 15_000;
    while (pids.size < 2 && Date.now() < deadline) pids.add(Number((await httpGet(port, '/ping')).body.split(' ')[0]));
    expect(pids.size).toBe(2);
  }, 300_000);
});
