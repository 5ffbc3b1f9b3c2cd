// Forking a worker. With the native engine's addon built, the master owns the listen sockets
// (listeners.ts) and forks with child_process.fork, the sockets in the child's stdio (fds 3+1..),
// so every worker accepts from the same queues. Without it, node:cluster forks and shares the
// sockets itself (the fallback of a machine without a C compiler).
import { type ChildProcess, fork } from 'node:child_process';
import cluster from 'node:cluster';
import type { ListenFd } from '../http/binds.js';
import type { Worker } from './pool.js';
import { workerExecArgv } from './worker-flags.js';

/** fds 0-2 are inherited, 3 is the IPC channel; the listen sockets follow. */
const FIRST_FD = 4;

class ForkedWorker implements Worker {
  constructor(readonly process: ChildProcess) {}
  send(m: unknown): void { this.process.send(m as object); }
  isConnected(): boolean { return this.process.connected; }
  on(ev: 'message' | 'error' | 'exit', cb: (...a: never[]) => void): void {
    this.process.on(ev, cb as (...a: unknown[]) => void);
  }
}

/** The fds a worker sees for the master's sockets, in the order they are passed. */
export function childFds(fds: readonly ListenFd[]): ListenFd[] {
  return fds.map((l, i) => ({ key: l.key, fd: FIRST_FD + i }));
}

export function forkWithSockets(entry: string, fds: readonly ListenFd[]): Worker {
  const child = fork(entry, [], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc', ...fds.map((l) => l.fd)],
    execArgv: workerExecArgv(),
  });
  return new ForkedWorker(child);
}

export function forkWithCluster(): Worker {
  return cluster.fork() as unknown as Worker;
}
