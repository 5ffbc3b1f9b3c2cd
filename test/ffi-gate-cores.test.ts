// The spin gate counts the CPUs the process may really use (native/host/cpu_limit.h): the smallest
// of the online CPUs, the affinity mask and the cgroup's CPU quota, rounded up. With one, a poller
// never spins, since the spin would take the core of the worker that waits for it. Each case runs
// test/fixtures/ffi-gate-cores.mjs in a process of its own (the host reads the limits once per
// process) with the machine made to look idle (TRESTY_FFI_GATE_FILE: 0 running), so that only the
// limit decides; the count is the host's, spins its gate allowed over 60 sparse calls. Quotas come
// from made-up cgroup trees (TRESTY_FFI_GATE_CGROUP_ROOT) in v2's and v1's layouts; the mask from
// `taskset -c 0`, and from pinning every thread after the plugin loaded, as worker_cpu_affinity does.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_BUILT } from './helpers/engine.js';
import { ROOT } from './helpers/server.js';
import { ensureNative } from './ffi-helpers.js';

const fixture = path.join(ROOT, 'test', 'fixtures', 'ffi-gate-cores.mjs');
const cores = os.availableParallelism();
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A cgroup tree under dir: file path (relative) -> content. */
function tree(dir: string, files: Record<string, string>): string {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

// The gate can open at all only with 2 CPUs or more (one for the caller, one to spin on).
(cores >= 2 ? describe : describe.skip)(`the spin gate and the CPUs the process may use${cores >= 2 ? '' : ' (skipped: one CPU)'}`, () => {
  let dir: string;
  let loadavg: string;
  beforeAll(() => {
    ensureNative();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-cores-'));
    loadavg = path.join(dir, 'loadavg');
    fs.writeFileSync(loadavg, '0.00 0.00 0.00 0/100 1\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Spins over 60 calls in a fresh process whose cgroup files are those under root. */
  async function run(root: string, opts: { taskset?: boolean; pin?: 'pin' | 'cross' } = {}): Promise<{ spins: number; pinned?: number }> {
    const env = {
      ...process.env, TRESTY_FFI_GATE_FILE: loadavg, TRESTY_FFI_GATE_CGROUP_ROOT: root,
      TRESTY_FFI_GATED_SPIN_NS: '1000000', TRESTY_FFI_SPIN_NS: '0',
    };
    delete env.TRESTY_FFI_GATE_CORES;
    const args = [fixture, ROOT, ...(opts.pin ? [opts.pin] : [])];
    const [cmd, argv] = opts.taskset ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
    const { stdout } = await promisify(execFile)(cmd, argv, { env, timeout: 20_000 });
    return JSON.parse(stdout.trim()) as { spins: number; pinned?: number };
  }

  const v2 = (cgroup: string, files: Record<string, string>) => (name: string) =>
    tree(path.join(dir, name), { 'proc/self/cgroup': `0::${cgroup}\n`, ...files });
  const v1 = (cgroup: string, files: Record<string, string>) => (name: string) =>
    tree(path.join(dir, name), { 'proc/self/cgroup': `5:memory:/x\n4:cpu,cpuacct:${cgroup}\n0::/\n`, ...files });

  const cases: Array<[string, (name: string) => string, 'spins' | 'never']> = [
    ['no quota (v2, no cpu.max)', v2('/', {}), 'spins'],
    ['v2 cpu.max "max 100000"', v2('/kube/pod', { 'sys/fs/cgroup/kube/pod/cpu.max': 'max 100000\n' }), 'spins'],
    ['v2 cpu.max 150000/100000 (rounds up to 2)', v2('/kube/pod', { 'sys/fs/cgroup/kube/pod/cpu.max': '150000 100000\n' }), 'spins'],
    ['v2 cpu.max 50000/100000', v2('/kube/pod', { 'sys/fs/cgroup/kube/pod/cpu.max': '50000 100000\n' }), 'never'],
    ['v2 quota on a parent cgroup', v2('/kube/pod', {
      'sys/fs/cgroup/kube/cpu.max': '100000 100000\n', 'sys/fs/cgroup/kube/pod/cpu.max': 'max 100000\n',
    }), 'never'],
    ['v2 in the hybrid layout (unified)', v2('/svc', { 'sys/fs/cgroup/unified/svc/cpu.max': '50000 100000\n' }), 'never'],
    ['v1 quota -1', v1('/', { 'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n', 'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n' }), 'spins'],
    // Without a cgroup namespace the line names the host's path; the container sees its own cgroup at the mount.
    ['v1 cfs 50000/100000 at the mount (no cgroup namespace)', v1('/docker/abc', {
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '50000\n', 'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
    }), 'never'],
  ];

  it('counts the cgroup CPU quota, v2 and v1, rounded up', async () => {
    const got: Record<string, number> = {};
    // Two at a time: each is a short node process.
    for (let i = 0; i < cases.length; i += 2) {
      await Promise.all(cases.slice(i, i + 2).map(async ([name, make]) => {
        got[name] = (await run(make(`c${cases.findIndex((c) => c[0] === name)}`))).spins;
      }));
    }
    const want = Object.fromEntries(cases.map(([name, , w]) => [name, w]));
    // 60 calls each leave the poller asking once: ~60 spins when open (20: margin for a loaded machine).
    const verdict = Object.fromEntries(Object.entries(got).map(([k, n]) => [k, n >= 20 ? 'spins' : n === 0 ? 'never' : `${n} spins`]));
    expect(verdict).toEqual(want);
  }, 60_000);

  (hasTaskset ? it : it.skip)('never spins under taskset -c 0 (one CPU in the affinity mask)', async () => {
    const none = v2('/', {})('taskset');
    expect((await run(none)).spins).toBeGreaterThanOrEqual(20); // the same process unpinned
    expect((await run(none, { taskset: true })).spins).toBe(0);
  }, 30_000);

  (ENGINE_BUILT ? it : it.skip)('stops spinning once its threads are pinned to one CPU after the plugin loaded (worker_cpu_affinity)', async () => {
    const r = await run(v2('/', {})('pin'), { pin: 'pin' });
    expect(r.spins).toBeGreaterThanOrEqual(20);
    expect(r.pinned).toBe(0);
  }, 30_000);

  // ffi_poller_cpu_affinity next: the poller on a CPU of its own and its caller on another. The
  // two masks together hold two CPUs, so a spin takes nobody's core while the machine idles.
  (ENGINE_BUILT ? it : it.skip)('spins on with the poller pinned apart from its caller (one CPU each)', async () => {
    const r = await run(v2('/', {})('cross'), { pin: 'cross' });
    expect(r.spins).toBeGreaterThanOrEqual(20);
    expect(r.pinned).toBeGreaterThanOrEqual(20);
  }, 30_000);
});
