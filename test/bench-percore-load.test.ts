// bench/http.mjs's per-core mode says how busy wrk's own core was, so a run whose load generator
// set the req/s (every server then reads alike) is flagged instead of quoted as a ratio.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { httpTables } from '../bench/http.mjs';
import { LOAD_CORE, wrkPinned } from '../bench/lib/percore.mjs';
import { busyShare, machineJiffies } from '../bench/lib/threads.mjs';

const noWrk = spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status !== 0;
const linux = os.platform() === 'linux';

/** A per-core section with one row, as bench/http.mjs keeps it in latest.json. */
function section(loadCoreBusy: number | null) {
  const row = { id: 'native', label: 'tresty, native engine', rps: 57000, rounds: [57000], p99Ms: 1, errors: 0, cpu: [{ name: 'worker/worker', share: 0.9 }], loadCoreBusy };
  return {
    settings: { tool: 'wrk', threads: 1, connections: 64, rounds: 1, secondsPerRun: 2, workers: 2 },
    tests: [], notes: [], targets: [], echoTargets: [],
    perCore: { tests: [{ test: 'hello', rows: [row], ratios: [] }], targets: [], cores: { server: 1, load: 0 } },
  };
}

describe('the load core\'s busy share in bench/http.mjs per core', () => {
  it.skipIf(!linux)(`reads one CPU's jiffies from /proc/stat${linux ? '' : ' (skipped: not Linux)'}`, () => {
    const a = machineJiffies(0)!;
    expect(a.total).toBeGreaterThan(0);
    expect(a.idle).toBeLessThanOrEqual(a.total);
    expect(machineJiffies(100000)).toBeNull();
    expect(busyShare({ idle: 10, total: 100 }, { idle: 35, total: 200 })).toBeCloseTo(0.75, 12);
    expect(busyShare({ idle: 10, total: 100 }, { idle: 10, total: 100 })).toBeNull();
    expect(busyShare(null, a)).toBeNull();
  });

  it('shows the column, and flags a row whose load core was full', () => {
    const [full] = httpTables(section(0.99)).filter((t: { title: string }) => t.title.startsWith('HTTP per core: 1 worker'));
    expect(full.rows[0].loadCore).toBe('99%');
    expect(full.notes.join('\n')).toContain("wrk's core was 97% busy or more for hello tresty, native engine: there the load generator may have set the req/s");
    const [calm] = httpTables(section(0.6)).filter((t: { title: string }) => t.title.startsWith('HTTP per core: 1 worker'));
    expect(calm.rows[0].loadCore).toBe('60%');
    expect(calm.notes.join('\n')).not.toContain('may have set the req/s');
    const [old] = httpTables(section(null)).filter((t: { title: string }) => t.title.startsWith('HTTP per core: 1 worker'));
    expect(old.rows[0].loadCore).toBe('n/a'); // a run from before the column
  });

  it.skipIf(noWrk || !linux)(`a pinned wrk run reports its core's busy share${noWrk ? ' (skipped: wrk is not installed; Debian: apt-get install wrk)' : ''}`, async () => {
    const server = http.createServer((_req, res) => res.end('ok\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await wrkPinned(`http://127.0.0.1:${port}/`, { connections: 4, seconds: 1 });
      expect(r.rps).toBeGreaterThan(0);
      expect(r.errors).toBe(0);
      // wrk itself ran there for a second; the share is of LOAD_CORE's time, so between 0 and 1.
      expect(r.loadCoreBusy, `CPU ${LOAD_CORE}`).toBeGreaterThan(0);
      expect(r.loadCoreBusy).toBeLessThanOrEqual(1);
    } finally {
      server.close();
    }
  });
});
