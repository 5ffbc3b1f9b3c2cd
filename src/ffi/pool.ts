// Function libraries bring no threads: a piscina pool lends them some. Each pool thread runs
// one long task, a loop that takes requests off the submit ring and sleeps in Atomics.wait
// when it is empty (workers/ffi-pool-thread.ts); an idle loop ends after a while, and the
// next request starts the loops again. Pointers cross threads as bigint addresses.
import os from 'node:os';
import { Piscina } from 'piscina';
import { POOL_ACTIVE, STATE, STATE_CLOSING, SUB_FUTEX } from '../ring/layout.js';
import type { Ptr } from './bindings.js';
import { poolThreadPath } from './locate.js';

export interface PoolTask {
  sab: SharedArrayBuffer;
  tq: Ptr;
  fn: Ptr;
  hostPath: string;
}

export interface Pool {
  /** After a request is published: wake a sleeping loop, or start loops if too few run. */
  kick(): void;
  /** The ring is CLOSING: let the loops drain it and end, then stop the threads. */
  stop(): Promise<void>;
}

export function poolSize(): number {
  const env = Number(process.env.TRESTY_FFI_POOL_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

export function startPool(task: PoolTask, onFailure: (e: Error) => void): Pool {
  const n = poolSize();
  const pool = new Piscina({ filename: poolThreadPath(), minThreads: n, maxThreads: n });
  const i32 = new Int32Array(task.sab);
  const running = new Set<Promise<unknown>>();
  const launch = () => {
    Atomics.add(i32, POOL_ACTIVE >> 2, 1); // counted before it runs, so kick() does not over-launch
    const p: Promise<unknown> = pool.run(task).catch((e: unknown) => {
      Atomics.sub(i32, POOL_ACTIVE >> 2, 1);
      onFailure(e instanceof Error ? e : new Error(String(e)));
    }).finally(() => running.delete(p));
    running.add(p);
  };
  return {
    kick() {
      while (Atomics.load(i32, POOL_ACTIVE >> 2) < n) launch();
    },
    async stop() {
      Atomics.store(i32, STATE >> 2, STATE_CLOSING);
      Atomics.add(i32, SUB_FUTEX >> 2, 1);
      Atomics.notify(i32, SUB_FUTEX >> 2);
      await Promise.all(running);
      await pool.destroy();
    },
  };
}
