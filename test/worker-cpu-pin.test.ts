// worker_cpu_affinity (and TRESTY_WORKER_CPU=auto, the same as `auto` for measurements): each
// worker puts all its threads, its FFI pollers included, on the CPUs of its slot
// (native/engine/cpu.c; src/master/cpu-affinity.ts; workers/http-worker.ts). Why: a hand-off to a poller on the worker's own core is a
// context switch, not a wake-up of another core (bench/README.md, issue 10). Read where the kernel
// keeps it: Cpus_allowed_list in /proc/PID/task/TID/status. Without either nothing is pinned. The
// poller cases run through the C runtime (echo_c-poll) and the Go one (echo_go-poll, a locked goroutine).
// Skipped when the native engine or the FFI libraries are not built.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ffiEchoBuilt, nativeBuild, startFfiEcho } from './helpers/ffi-echo.js';
import { freePort, httpGet, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';

const built = ffiEchoBuilt('tresty_engine.node');
// The Go runtime's echo: its poll loop is a goroutine locked to a thread named echo_go-poll.
const goMissing = fs.existsSync(path.join(nativeBuild, 'libecho_go.so')) ? null : 'libecho_go.so not built: no Go 1.19 or later';

/** CPUs in a list such as "0-2,5". */
function cpus(list: string): number[] {
  return list.trim().split(',').flatMap((r) => {
    const [a, b] = r.split('-').map(Number);
    return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
  });
}

/** Each thread of pid: its name, the CPUs it may run on, and its scheduling policy (0 ordinary, 1 SCHED_FIFO). */
function threads(pid: number): { comm: string; cpus: number[]; policy: number }[] {
  const out: { comm: string; cpus: number[]; policy: number }[] = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // stat's 41st field; the fields after the name (which may hold spaces) start at the 3rd.
      const policy = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[41 - 3]);
      out.push({ comm: /^Name:\t(.*)$/m.exec(st)![1]!, cpus: cpus(/^Cpus_allowed_list:\t(.*)$/m.exec(st)![1]!), policy });
    } catch { /* exited */ }
  }
  return out;
}

async function start(env: Record<string, string>, main = '', workers = 2, library = 'echo_c'): Promise<{ t: TrestyProcess; port: number }> {
  const port = await freePort();
  const t = await startFfiEcho(port, `worker_processes ${workers};\n${main}\nerror_log logs/error.log notice;`, env, library);
  // The workers answer through their pollers. Requests 4 at a time until every worker has one:
  // one at a time, a loaded machine may hand every connection to one worker.
  const polled = (): boolean => [...t.workerPids].every((pid) => threads(pid).some((x) => x.comm === `${library}-poll`));
  for (let i = 0; i < 4 * workers || (i < 200 && !polled()); i += 4) {
    const bodies = [0, 1, 2, 3].map((k) => `p${i + k}`);
    const got = await Promise.all(bodies.map((body) => httpGet(port, '/echo', { method: 'POST', body })));
    expect(got.map((r) => r.body)).toEqual(bodies);
  }
  return { t, port };
}

/** Each worker's CPUs (every thread of a worker alike, its poller included, or fail), as "0,2" strings, sorted. */
function pins(t: TrestyProcess, poller = 'echo_c-poll'): string[] {
  return [...t.workerPids].map((pid) => {
    const ts = threads(pid);
    expect(ts.some((x) => x.comm === poller)).toBe(true);
    const sets = new Set(ts.map((x) => x.cpus.join(',')));
    expect([...sets]).toHaveLength(1);
    return [...sets][0]!;
  }).sort();
}

/** Per worker, sorted: the CPUs of its other threads (one set, or fail) and of its pollers (one thread per name, one set). */
function ownAndPollers(t: TrestyProcess, names: readonly string[]): { own: string; poller: string }[] {
  return [...t.workerPids].map((pid) => {
    const ts = threads(pid);
    const pollers = ts.filter((x) => names.includes(x.comm));
    expect(pollers).toHaveLength(names.length);
    const rest = new Set(ts.filter((x) => !names.includes(x.comm)).map((x) => x.cpus.join(',')));
    expect([...rest]).toHaveLength(1); // every other thread with its worker
    const at = new Set(pollers.map((x) => x.cpus.join(',')));
    expect([...at]).toHaveLength(1);
    return { own: [...rest][0]!, poller: [...at][0]! };
  }).sort((a, b) => a.own.localeCompare(b.own));
}

const LATE = ['echo_rust-poll', 'sha256_c-poll'];
const SHA_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

/** /sha and /rs load a runtime (C, Rust) in the handler, on each worker's first request (ngx.load_ffi), after the worker bound its threads. */
async function startLate(main: string): Promise<{ t: TrestyProcess; port: number }> {
  const port = await freePort();
  const t = await startTresty(`worker_processes 2;\n${main}\nerror_log logs/error.log notice;
events {}
http {
  server {
    listen 127.0.0.1:${port};
    location = /sha { content_by_js_block { ngx.print(await ngx.load_ffi("${path.join(nativeBuild, 'libsha256_c.so')}").call("abc")); } }
    location = /rs { content_by_js_block { ngx.print(await ngx.load_ffi("${path.join(nativeBuild, 'libecho_rust.so')}").call("rs")); } }
  }
}`);
  const loaded = (): boolean => [...t.workerPids].every((pid) => LATE.every((p) => threads(pid).some((x) => x.comm === p)));
  for (let i = 0; i < 200 && !loaded(); i++) {
    const got = await Promise.all(['/sha', '/rs', '/sha', '/rs'].map((u) => httpGet(port, u)));
    expect(got.map((r) => r.body)).toEqual([SHA_ABC, 'rs', SHA_ABC, 'rs']);
  }
  expect(loaded()).toBe(true);
  return { t, port };
}

const mine = cpus(/^Cpus_allowed_list:\t(.*)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]!);

(built ? describe : describe.skip)(`TRESTY_WORKER_CPU=auto${built ? '' : ' (skipped: native/build not built)'}`, () => {
  afterEach(stopAll);

  it('puts every thread of each worker, its poller included, on a CPU of its own', async () => {
    const { t } = await start({ TRESTY_WORKER_CPU: 'auto' });
    const pins = [...t.workerPids].map((pid) => {
      const ts = threads(pid);
      expect(ts.some((x) => x.comm === 'echo_c-poll')).toBe(true);
      const sets = new Set(ts.map((x) => x.cpus.join(',')));
      expect([...sets]).toHaveLength(1); // all threads alike
      const [one] = [...sets];
      expect(one!.split(',')).toHaveLength(1); // one CPU
      return Number(one);
    });
    for (const c of pins) expect(mine).toContain(c);
    // Two workers, two slots: different CPUs whenever there are two to use.
    if (mine.length >= 2 && os.availableParallelism() >= 2) expect(new Set(pins).size).toBe(2);
  });

  it('pins nothing without it', async () => {
    const { t } = await start({ TRESTY_WORKER_CPU: '' });
    for (const pid of t.workerPids) for (const x of threads(pid)) expect(x.cpus).toEqual(mine);
  });

  (goMissing ? it.skip : it)(`pins nothing without it (echo_go: its named poller ordinary, answering)${goMissing ? ` (skipped: ${goMissing})` : ''}`, async () => {
    const { t, port } = await start({ TRESTY_WORKER_CPU: '' }, '', 2, 'echo_go');
    for (const pid of t.workerPids) {
      const ts = threads(pid);
      expect(ts.filter((x) => x.comm === 'echo_go-poll')).toHaveLength(1);
      for (const x of ts) expect([x.cpus, x.policy]).toEqual([mine, 0]);
    }
    const bodies = Array.from({ length: 32 }, (_, i) => `plain${i}`);
    const got = await Promise.all(bodies.map((body) => httpGet(port, '/echo', { method: 'POST', body })));
    expect(got.map((r) => r.body)).toEqual(bodies);
  });
});

const two = mine.length >= 2 && mine.includes(0) && mine.includes(1);
(built && two ? describe : describe.skip)(`worker_cpu_affinity${built ? (two ? '' : ' (skipped: CPUs 0 and 1 are not both usable here)') : ' (skipped: native/build not built)'}`, () => {
  afterEach(stopAll);

  it('auto: one CPU per worker, each its own, and a notice naming it', async () => {
    const { t } = await start({}, 'worker_cpu_affinity auto;');
    expect(pins(t)).toEqual(['0', '1']);
    expect(t.errorLog()).toMatch(/\[notice\] .*sched_setaffinity\(\): using cpu #0/);
    expect(t.errorLog()).toMatch(/\[notice\] .*sched_setaffinity\(\): using cpu #1/);
  });

  it('masks: each worker its own; a mask may hold several CPUs', async () => {
    const { t } = await start({}, 'worker_cpu_affinity 01 11;');
    expect(pins(t)).toEqual(['0', '0,1']);
  });

  it('fewer masks than workers: the last serves the rest, with nginx\'s warning', async () => {
    const { t } = await start({}, 'worker_cpu_affinity 01 10;', 3);
    expect(pins(t)).toEqual(['0', '1', '1']);
    expect(t.errorLog()).toContain('[warn]');
    expect(t.errorLog()).toContain('the number of "worker_processes" is not equal to the number of "worker_cpu_affinity" masks, using last mask for remaining worker processes');
  });

  for (const [library, missing] of [['echo_c', null], ['echo_go', goMissing]] as const) {
    const poller = `${library}-poll`;
    const named = library === 'echo_c' ? '' : ` (${library}${missing ? `; skipped: ${missing}` : ''})`;
    (missing ? it.skip : it)(`ffi_poller_cpu_affinity next: each worker on its CPU, its poller on the other worker's${named}`, async () => {
      const { t, port } = await start({}, 'worker_cpu_affinity auto;\nffi_poller_cpu_affinity next;', 2, library);
      expect(ownAndPollers(t, [poller])).toEqual([{ own: '0', poller: '1' }, { own: '1', poller: '0' }]);
      expect(t.errorLog()).toMatch(/\[notice\] .*sched_setaffinity\(\): ffi pollers using cpu #1/);
      expect((await httpGet(port, '/echo', { method: 'POST', body: 'across' })).body).toBe('across');
    });
  }

  it('ffi_poller_cpu_affinity same: the pollers stay with their worker, as without it', async () => {
    const { t } = await start({}, 'worker_cpu_affinity auto;\nffi_poller_cpu_affinity same;');
    expect(pins(t)).toEqual(['0', '1']);
  });

  for (const [library, missing] of [['echo_c', null], ['echo_go', goMissing]] as const) {
    const poller = `${library}-poll`;
    const named = library === 'echo_c' ? '' : ` (${library}${missing ? `; skipped: ${missing}` : ''})`;
    (missing ? it.skip : it)(`ffi_poller_sched fifo: each poller SCHED_FIFO on its worker's CPU, every other thread ordinary${named}`, async (ctx) => {
      // Real-time threads need root or CAP_SYS_NICE; CI runs as root.
      if (spawnSync('chrt', ['-f', '1', 'true']).status !== 0) return ctx.skip();
      const { t, port } = await start({}, 'worker_cpu_affinity auto;\nffi_poller_sched fifo;', 2, library);
      expect(pins(t, poller)).toEqual(['0', '1']);
      for (const pid of t.workerPids) {
        const ts = threads(pid);
        expect(ts.filter((x) => x.policy === 1).map((x) => x.comm)).toEqual([poller]);
        expect(ts.filter((x) => x.policy !== 1).every((x) => x.policy === 0)).toBe(true);
      }
      expect(t.errorLog()).toMatch(/\[notice\] .*sched_setscheduler\(\): 1 ffi poller SCHED_FIFO on cpu #0/);
      expect(t.errorLog()).toMatch(/\[notice\] .*sched_setscheduler\(\): 1 ffi poller SCHED_FIFO on cpu #1/);
      // The poller answers many calls at once, and the workers go on serving.
      const bodies = Array.from({ length: 32 }, (_, i) => `fifo${i}`);
      const got = await Promise.all(bodies.map((body) => httpGet(port, '/echo', { method: 'POST', body })));
      expect(got.map((r) => r.body)).toEqual(bodies);
    });
  }

  it('ffi_poller_sched fifo reaches a runtime loaded by a handler after the worker bound its threads', async (ctx) => {
    if (spawnSync('chrt', ['-f', '1', 'true']).status !== 0) return ctx.skip();
    const { t, port } = await startLate('worker_cpu_affinity auto;\nffi_poller_sched fifo;');
    for (const pid of t.workerPids) {
      const ts = threads(pid);
      expect(ts.filter((x) => x.policy === 1).map((x) => x.comm).sort()).toEqual(LATE);
      expect(new Set(ts.map((x) => x.cpus.join(','))).size).toBe(1);
    }
    expect(t.errorLog()).toMatch(/\[notice\] .*sched_setscheduler\(\): 0 ffi pollers SCHED_FIFO on cpu #0/);
    expect(t.errorLog()).toMatch(/\[notice\] .*sched_setscheduler\(\): 2 ffi pollers SCHED_FIFO on cpu #0/);
    expect(t.errorLog()).toMatch(/\[notice\] .*sched_setscheduler\(\): 2 ffi pollers SCHED_FIFO on cpu #1/);
    const got = await Promise.all(Array.from({ length: 16 }, () => httpGet(port, '/sha')));
    expect(got.every((r) => r.body === SHA_ABC)).toBe(true);
  });

  it('ffi_poller_cpu_affinity next reaches a runtime loaded by a handler after the worker bound its threads', async () => {
    const { t } = await startLate('worker_cpu_affinity auto;\nffi_poller_cpu_affinity next;');
    expect(ownAndPollers(t, LATE)).toEqual([{ own: '0', poller: '1' }, { own: '1', poller: '0' }]);
  });

  it('ffi_poller_sched other: the pollers stay ordinary', async () => {
    const { t } = await start({}, 'worker_cpu_affinity auto;\nffi_poller_sched other;');
    for (const pid of t.workerPids) for (const x of threads(pid)) expect(x.policy).toBe(0);
    expect(t.errorLog()).not.toContain('sched_setscheduler');
  });

  it('a CPU the machine lacks: an alert, and the workers serve unbound', async () => {
    const { t, port } = await start({}, `worker_cpu_affinity 1${'0'.repeat(1000)};`);
    expect(t.errorLog()).toMatch(/\[alert\] .*sched_setaffinity\(\) failed \(22: Invalid argument\)/);
    for (const pid of t.workerPids) for (const x of threads(pid)) expect(x.cpus).toEqual(mine);
    expect((await httpGet(port, '/echo', { method: 'POST', body: 'still' })).body).toBe('still');
  });
});
