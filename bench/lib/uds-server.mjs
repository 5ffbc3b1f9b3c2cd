// Starts and stops native/build/tresty-uds-echo for tests and benchmarks.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const UDS_ECHO_BIN = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'build', 'tresty-uds-echo');

/**
 * Starts the server on socketPath and resolves once it listens.
 * @param {string} socketPath
 * @param {{ threads?: number, bin?: string, timeoutMs?: number }} [opts]
 * @returns {Promise<{ socketPath: string, pid: number, stop(): Promise<number | null> }>}
 */
export function startUdsEcho(socketPath, opts = {}) {
  const bin = opts.bin ?? UDS_ECHO_BIN;
  if (!existsSync(bin)) {
    return Promise.reject(new Error(`${bin} is not built: run "make -C native/runtimes uds"`));
  }
  const child = spawn(bin, [socketPath, String(opts.threads ?? 1)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tresty-uds-echo did not start within ${opts.timeoutMs ?? 5000} ms: ${err}`));
    }, opts.timeoutMs ?? 5000);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('listening on')) {
        clearTimeout(timer);
        resolve({ socketPath, pid: /** @type {number} */ (child.pid), stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tresty-uds-echo exited with ${code}: ${err.trim()}`));
    });
  });
}
