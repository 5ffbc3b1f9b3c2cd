// Function libraries bring no threads: a piscina pool lends them some. Each pool thread runs
// one long task, a loop that takes requests off the submit ring and sleeps in Atomics.wait
// when it is empty (workers/ffi-pool-thread.ts). Pointers cross threads as bigint addresses.
import os from 'node:os';
import { Piscina } from 'piscina';
import type { Ptr } from './bindings.js';
import { poolThreadPath } from './locate.js';

export interface PoolTask {
  sab: SharedArrayBuffer;
  tq: Ptr;
  fn: Ptr;
  hostPath: string;
}

export interface Pool {
  stop(): Promise<void>;
}

export function poolSize(): number {
  const env = Number(process.env.TRESTY_FFI_POOL_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

export function startPool(sab: SharedArrayBuffer, tq: Ptr, fn: Ptr, hostPath: string): Pool {
  const n = poolSize();
  const pool = new Piscina({ filename: poolThreadPath(), minThreads: n, maxThreads: n, idleTimeout: 1000 });
  const task: PoolTask = { sab, tq, fn, hostPath };
  const loops = Array.from({ length: n }, () => pool.run(task).catch((e: unknown) => {
    process.emitWarning(`tresty: an ffi pool thread stopped: ${(e as Error).message}`);
  }));
  return {
    async stop() {
      await Promise.all(loops);
      await pool.destroy();
    },
  };
}
