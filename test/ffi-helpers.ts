// Shared by the ffi tests: the test runtimes built by `make -C native` (npm test builds first).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const nativeDir = fileURLToPath(new URL('../native', import.meta.url));
export const testRuntimes = `${nativeDir}/build/test-runtimes`;

/** Build the host and test runtimes if a developer runs vitest without npm test. */
export function ensureNative(): void {
  if (!existsSync(`${nativeDir}/build/libtresty_host.so`) || !existsSync(`${testRuntimes}/host_check`)) {
    execFileSync('make', ['-s', '-C', nativeDir, 'core'], { stdio: 'inherit' });
  }
}
