// Builds and runs the C programs of native/http/ (the request parser's tests, fuzzers and
// benchmark): the tests build them, not `npm install`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const nativeDir = fileURLToPath(new URL('../../native', import.meta.url));
export const httpBuild = `${nativeDir}/build/http`;

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Why C programs cannot be built here, or null when they can. */
export function noCompiler(): string | null {
  if (!have('make')) return 'make is not installed (Debian: apt-get install make)';
  if (!have('cc') && !have('gcc')) return 'no C compiler (Debian: apt-get install gcc)';
  return null;
}

/** `make -C native <targets>`; throws with make's output when it fails. */
export function make(targets: string[], env: Record<string, string> = {}): void {
  const r = spawnSync('make', ['-s', '-C', nativeDir, ...targets], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`make ${targets.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
}

export interface RunResult { status: number | null; stdout: string; stderr: string }

/** Runs a program; `background` runs it under `nice` so that a long fuzz run does not slow
 *  the timing-sensitive tests running beside it. */
export function run(bin: string, args: string[] = [], timeoutMs = 120_000, input?: Buffer | string, background = false): RunResult {
  const [cmd, argv] = background && have('nice') ? ['nice', ['-n', '10', bin, ...args]] : [bin, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: timeoutMs, input, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
