// bench/ffi-python.mjs as a harness, not a speed: a one-cell quick run through `npm run bench`'s
// entry point writes its section with both sides measured and the CPU of their threads counted.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pythonSkip } from './helpers/loaders.js';
import { ROOT } from './helpers/server.js';

const skip = pythonSkip();

describe.skipIf(skip)(`bench/ffi-python.mjs${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'tresty-pybench-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('--only python --quick for one cell writes the section with both sides and their CPU', () => {
    const r = spawnSync(process.execPath, [
      path.join(ROOT, 'bench', 'run.mjs'), '--only', 'python', '--quick',
      '--payloads', '512', '--formats', 'raw', '--inflight', '4', '--out', out,
    ], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Python FFI vs UDS');
    const sec = JSON.parse(readFileSync(path.join(out, 'latest.json'), 'utf8')).sections.python;
    expect(sec.error).toBeUndefined();
    expect(sec.cells).toHaveLength(1);
    const cell = sec.cells[0];
    expect(cell).toMatchObject({ format: 'raw', size: 512, bytes: 512, inflight: 4 });
    for (const side of [cell.ffi, cell.uds]) {
      expect(side.calls).toBeGreaterThan(0); // it measured something; how fast is not a test
      expect(side.cpu.totalUs).toBeGreaterThan(0);
    }
    // The poller thread the module started is counted on the FFI side, the Python server on the UDS side.
    expect(cell.ffi.cpu.threads.map((t: { name: string }) => t.name)).toContain('py-echo');
    expect(cell.uds.cpu.threads.map((t: { name: string }) => t.name).join(' ')).toMatch(/python/);
    expect(readFileSync(path.join(out, 'latest.md'), 'utf8')).toContain('| format | payload | in flight | FFI calls/s');
  }, 90_000);
});
