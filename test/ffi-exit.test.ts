// A process that used runtime plugins and ends on its own, without unloading them: V8 frees the
// ring memory and koffi unloads the libraries while the runtimes' poller threads may still be in
// task_poll. Teardown must be ordered (pollers leave first, libraries stay mapped): before the
// fix about one run in five ended in SIGSEGV. Needs dist/ (built by npm test).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureNative, nativeDir, testRuntimes } from './ffi-helpers.js';

const RUNS = 12;

describe('process exit with runtime plugins loaded', () => {
  beforeAll(ensureNative);

  it(`ends cleanly every time (${RUNS} runs, pollers busy until the end)`, async () => {
    const dist = new URL('../dist/src/ffi/index.js', import.meta.url).href;
    const script = `const { loadFfi } = await import(${JSON.stringify(dist)});
      const a = loadFfi('echo_c', 'threads=2', { searchPath: [${JSON.stringify(`${nativeDir}/build`)}] });
      const b = loadFfi('tresty_test_echo', 'threads=3', { searchPath: [${JSON.stringify(testRuntimes)}] });
      for (let i = 0; i < 40; i++) await Promise.all(Array.from({ length: 64 }, (_, j) => Promise.all([a.call('x' + j), b.call('y')])));
      console.log('done');`;
    const outcomes: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      try {
        const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
        outcomes.push(stdout.trim());
      } catch (e) {
        const err = e as { code?: number; signal?: string; stderr?: string };
        outcomes.push(`exit ${err.code} signal ${err.signal} ${err.stderr ?? ''}`);
      }
    }
    expect(outcomes).toEqual(Array.from({ length: RUNS }, () => 'done'));
  }, 120_000);
});
