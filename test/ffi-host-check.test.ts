// The host driven from C (native/test-runtimes/host_check.c), and under valgrind when the
// machine has it: every payload size, late answers after detach, nothing leaked or misused.
import { execFileSync, spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureNative, nativeDir, testRuntimes } from './ffi-helpers.js';

const hasValgrind = spawnSync('sh', ['-c', 'command -v valgrind'], { stdio: 'ignore' }).status === 0;
const check = `${testRuntimes}/host_check`;

describe('native host from C', () => {
  beforeAll(ensureNative);

  it('passes host_check', () => {
    expect(execFileSync(check, [`${nativeDir}/build`], { encoding: 'utf8' })).toContain('host_check: ok');
  });

  it.skipIf(!hasValgrind)('passes host_check under valgrind with no leak or memory error', () => {
    const r = spawnSync('valgrind', ['-q', '--leak-check=full', '--errors-for-leak-kinds=definite', '--error-exitcode=9',
      check, `${nativeDir}/build`], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
