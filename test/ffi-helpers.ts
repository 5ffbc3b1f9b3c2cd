// Shared by the ffi tests: the test runtimes built by `make -C native` (npm test builds first).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const nativeDir = fileURLToPath(new URL('../native', import.meta.url));
export const testRuntimes = `${nativeDir}/build/test-runtimes`;

/** Build the host and test runtimes if a developer runs vitest without npm test. */
export function ensureNative(): void {
  if (!existsSync(`${nativeDir}/build/libtresty_host.so`) || !existsSync(`${testRuntimes}/host_check`)) {
    execFileSync('make', ['-s', '-C', nativeDir, 'core'], { stdio: 'inherit' });
  }
}

/** The ids of this process's threads (/proc/self/task). */
export function threadIds(): number[] {
  return readdirSync(`/proc/${process.pid}/task`).map(Number);
}

/** CPU ms used so far by the given threads (schedstat: ns the scheduler ran each; gone ones count 0). */
export function threadCpuMs(ids: readonly number[]): number {
  let ns = 0;
  for (const t of ids) {
    try {
      ns += Number(readFileSync(`/proc/${process.pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch { /* the thread ended */ }
  }
  return ns / 1e6;
}
