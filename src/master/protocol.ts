// Messages between the master and its workers (over node:cluster's IPC channel), and the
// events the master reports to a parent that started it with an IPC channel (the test helper,
// or the `daemon on` launcher waiting for start-up). Every message carries `tresty` as its tag.
import type { ConfSnapshot } from '../config/index.js';
import type { ListenFd } from '../http/binds.js';
import type { ZoneSpec } from '../shared/index.js';

/** What a worker needs to resolve exactly the conf the master validated. */
export interface WorkerStart {
  readonly tresty: 'start';
  readonly file: string;
  readonly prefix: string;
  readonly globals?: string;
  readonly snapshot: ConfSnapshot;
  /** nginx's worker id (ngx.worker.id()): 0..count-1, kept when a worker is replaced. */
  readonly slot: number;
  readonly count: number;
  /** Which HTTP engine serves (the master decides once, and logs it). */
  readonly engine: 'native' | 'node';
  /** The master's listen sockets, as fds of the worker (absent: node:cluster shares them). */
  readonly listenFds?: readonly ListenFd[];
  /** js_shared_dict zones to attach, by segment path (the master created them). */
  readonly shm?: readonly ZoneSpec[];
  /** The stub_status counters' page (src/status/counters.ts), made once by the master. */
  readonly status?: string;
}

export type MasterToWorker =
  | WorkerStart
  | { readonly tresty: 'quit' } // graceful: finish in-flight requests, then exit
  | { readonly tresty: 'stop' } // fast: drop connections, exit
  | { readonly tresty: 'reopen' } // USR1: reopen log files
  | { readonly tresty: 'closed' } // answer to `closing`: no connection hand-off to you is left in flight
  | { readonly tresty: 'replaced' }; // to a worker leaving after a fault: its replacement is ready

export type WorkerToMaster =
  // Sent first, once the worker listens for messages: anything sent earlier would be lost
  // while its ES modules load. The master answers with `start`.
  | { readonly tresty: 'hello' }
  | { readonly tresty: 'ready'; readonly addresses: readonly string[] }
  | { readonly tresty: 'fatal'; readonly code: string; readonly message: string }
  // Sent right after closing the listen sockets. node:cluster's own `close` travels first on the
  // same channel, so the master's `closed` answer comes after every hand-off it had sent.
  | { readonly tresty: 'closing' }
  // An exception no request owned: the worker stops accepting, finishes its requests and exits;
  // the master starts its replacement now rather than at the exit.
  | { readonly tresty: 'failing' };

/** Reported to the master's own parent, when it has an IPC channel. */
export type MasterEvent =
  | { readonly tresty: 'ready'; readonly pid: number; readonly workers: readonly number[]; readonly addresses: readonly string[]; readonly engine: 'native' | 'node' }
  | { readonly tresty: 'start-failed'; readonly code: string; readonly message: string }
  | { readonly tresty: 'worker-exit'; readonly pid: number; readonly code: number | null; readonly signal: string | null }
  | { readonly tresty: 'worker-spawn'; readonly pid: number; readonly slot: number }
  | { readonly tresty: 'worker-ready'; readonly pid: number; readonly slot: number }
  | { readonly tresty: 'worker-gave-up'; readonly slot: number; readonly failures: number }
  | { readonly tresty: 'reloaded'; readonly workers: readonly number[] }
  | { readonly tresty: 'reload-failed'; readonly code: string; readonly message: string }
  | { readonly tresty: 'reopened' }
  | { readonly tresty: 'exiting' };

export function isTrestyMessage(m: unknown): m is { tresty: string } {
  return typeof m === 'object' && m !== null && typeof (m as { tresty?: unknown }).tresty === 'string';
}
