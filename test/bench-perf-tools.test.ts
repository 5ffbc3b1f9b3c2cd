// bench/worker-profile.mjs and bench/ffi-syscalls.mjs as harnesses, not speeds: short runs of the
// real server, the UDS echo server, wrk and perf, checked for the tables they print. perf needs
// root or a permissive perf_event_paranoid; without it the runs skip and say why.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/server.js';

const PROFILE = path.join(ROOT, 'bench', 'worker-profile.mjs');
const SYSCALLS = path.join(ROOT, 'bench', 'ffi-syscalls.mjs');
const missing = ['native/build/libecho_c.so', 'native/build/tresty-uds-echo', 'dist/src/cli/main.js']
  .filter((f) => !existsSync(path.join(ROOT, f)));
const noWrk = spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status !== 0;
const perfRecord = spawnSync('perf', ['record', '-q', '-e', 'cpu-clock', '-o', '/dev/null', '--', 'true'], { stdio: 'ignore' });
const perfTrace = spawnSync('perf', ['stat', '-e', 'syscalls:sys_enter_futex', '--', 'true'], { stdio: 'ignore' });
const common = noWrk ? 'wrk is not installed (Debian: apt-get install wrk)'
  : missing.length ? `not built: ${missing.join(', ')} (npm run build)` : null;
const skipProfile = common ?? (perfRecord.status !== 0 ? 'perf record cannot run here (Debian: linux-perf, as root)' : null);
const skipSyscalls = common ?? (perfTrace.status !== 0 ? 'no syscall tracepoints for perf here (Debian: linux-perf, as root)' : null);

/** The `name | a | b` rows of a table, by name. */
function rows(stdout: string): Map<string, string[]> {
  return new Map(stdout.split('\n').filter((l) => l.includes(' | ')).map((l) => {
    const [name, ...cells] = l.split(' | ');
    return [name!.trim(), cells.map((c) => c.trim())];
  }));
}

describe('bench/worker-profile.mjs', () => {
  it('refuses a bad --bytes with its usage line and status 2', () => {
    const r = spawnSync(process.execPath, [PROFILE, '--bytes', 'lots'], { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: node bench/worker-profile.mjs');
  });

  it('says perf is missing in one line and with status 2 when it cannot run', () => {
    const r = spawnSync(process.execPath, [PROFILE], { cwd: ROOT, encoding: 'utf8', timeout: 10_000, env: { ...process.env, PATH: '' } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^worker-profile: needs perf record \(Debian: linux-perf, run as root\)/);
    expect(r.stderr).not.toContain('    at ');
  });

  it.skipIf(skipProfile !== null)(`profiles two paths and prints their CPU per request by area and the symbols that differ${skipProfile ? ` (skipped: ${skipProfile})` : ''}`, () => {
    const r = spawnSync(process.execPath, [PROFILE, '--paths', '/echo-ffi,/echo-fn', '--bytes', '512', '--seconds', '1', '--top', '200'], {
      cwd: ROOT, encoding: 'utf8', timeout: 90_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const t = rows(r.stdout);
    expect(t.get('where')?.[0]).toMatch(/^\/echo-ffi \(\d+ req\/s\)$/);
    expect(t.get('where')?.[1]).toMatch(/^\/echo-fn \(\d+ req\/s\)$/);
    for (const us of t.get('all')!.map(Number)) expect(us).toBeGreaterThan(0);
    for (const us of t.get('JIT code')!.map(Number)) expect(us).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/the 200 symbols that differ most, \/echo-ffi minus \/echo-fn/);
    const diff = r.stdout.split('\n').filter((l) => /^[+-]\d+\.\d\d /.test(l));
    expect(diff.length).toBeGreaterThan(20);
    // The ring's own JS runs on /echo-ffi alone. Its functions have names only when the workers
    // got --perf-basic-prof (without it this fails).
    expect(diff.some((l) => l.startsWith('+') && l.includes('dist/src/ffi/channel.js')), r.stdout).toBe(true);
  });
});

describe('bench/ffi-syscalls.mjs', () => {
  it('refuses an unknown flag with its usage line and status 2', () => {
    const r = spawnSync(process.execPath, [SYSCALLS, '--bogus'], { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: node bench/ffi-syscalls.mjs');
    expect(r.stderr).not.toContain('    at ');
  });

  it.skipIf(skipSyscalls !== null)(`counts loop turns and sleeps apart, a sleep never without its turn${skipSyscalls ? ` (skipped: ${skipSyscalls})` : ''}`, () => {
    const r = spawnSync(process.execPath, [SYSCALLS, '--paths', '/echo-ffi,/echo-fn', '--bytes', '512', '--seconds', '1'], {
      cwd: ROOT, encoding: 'utf8', timeout: 90_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const t = rows(r.stdout);
    const all = t.get('main epoll_pwait')!.map(Number);
    const sleeps = t.get('main epoll_pwait, blocking: the loop sleeps')!.map(Number);
    const turns = t.get('main loop turns: epoll_pwait, timeout 0')!.map(Number);
    for (const i of [0, 1]) {
      expect(all[i]).toBeGreaterThan(0);
      // Node polls with timeout 0 before every sleep (libuv's idle-time metrics): were that to
      // change, sleeps would outnumber the turns and the split would be wrong.
      expect(sleeps[i]).toBeLessThanOrEqual(turns[i]! + 0.002);
    }
    // Only the ring's path wakes a poller: its futex calls are there, the zero hop has none.
    expect(Number(t.get('poller futex')?.[0])).toBeGreaterThan(0);
  });
});
