// `daemon on;`: the launcher starts a detached copy of this command with no terminal, waits
// until its master reports ready (or a start-up error, which it prints), then exits.
import { spawn } from 'node:child_process';
import { isTrestyError } from '../errors.js';
import { isTrestyMessage, type MasterEvent } from './protocol.js';

const CHILD_ENV = 'TRESTY_DAEMON_CHILD';

export function isDaemonChild(): boolean {
  return process.env[CHILD_ENV] === '1';
}

/** Returns the launcher's exit code: 0 once the daemon is ready, 1 if it failed to start. */
export function daemonize(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      env: { ...process.env, [CHILD_ENV]: '1' },
    });
    const finish = (code: number): void => {
      child.removeAllListeners();
      if (child.connected) child.disconnect();
      child.unref();
      resolve(code);
    };
    child.on('message', (m: unknown) => {
      if (!isTrestyMessage(m)) return;
      const e = m as MasterEvent;
      if (e.tresty === 'ready') finish(0);
      else if (e.tresty === 'start-failed') {
        process.stderr.write(`tresty: [emerg] ${e.message}\n`);
        finish(1);
      }
    });
    child.on('exit', (code) => {
      process.stderr.write(`tresty: [alert] the daemon exited during start-up (code ${code})\n`);
      resolve(1);
    });
  });
}

/** A start-up failure, told to whoever started us (the launcher prints it; tests read it). */
export function reportToLauncher(e: unknown): Promise<void> {
  if (!process.connected) return Promise.resolve();
  const msg: MasterEvent = {
    tresty: 'start-failed',
    code: isTrestyError(e) ? e.code : 'TRESTY_ERR_WORKER_START',
    message: e instanceof Error ? e.message : String(e),
  };
  // Resolves once the message left, so that the caller may exit right after.
  return new Promise((resolve) => process.send!(msg, undefined, {}, () => resolve()));
}
