// worker_cpu_affinity: which CPUs worker `slot` is bound to. The binding itself is the engine
// addon's (native/engine/cpu.c); the worker calls it once its FFI pollers exist.
import type { CpuAffinity } from '../config/types.js';

/**
 * The CPUs for worker `slot`, or null for no binding. `auto` takes the slot-th CPU, cycling, of
 * its mask, else of `allowed` (the CPUs the process may use, so a container's cpuset is kept);
 * an empty auto mask binds nothing, as in nginx. Masks: the slot-th, the last for workers past
 * the list.
 */
export function workerCpus(aff: CpuAffinity, slot: number, allowed: readonly number[]): number[] | null {
  if (aff.auto) {
    const from = aff.cpus ?? allowed;
    return from.length ? [from[slot % from.length]!] : null;
  }
  return [...aff.masks[Math.min(slot, aff.masks.length - 1)]!];
}

/**
 * ffi_poller_cpu_affinity next: the CPUs of the next worker's slot (cycling over the workers), so
 * each worker's pollers share a core with another worker rather than with their own. `auto` with
 * one worker takes the next CPU of its list. Null when that is the worker's own binding anyway.
 */
export function pollerCpus(aff: CpuAffinity, slot: number, workers: number, allowed: readonly number[]): number[] | null {
  const own = workerCpus(aff, slot, allowed);
  const next = aff.auto ? workerCpus(aff, slot + 1, allowed) : workerCpus(aff, (slot + 1) % Math.max(workers, 1), allowed);
  if (!own || !next || next.join(',') === own.join(',')) return null;
  return next;
}

/** nginx's warning when the masks do not match the workers one to one. */
export function maskCountWarning(aff: CpuAffinity, workers: number): string | null {
  if (aff.auto || aff.masks.length === 1 || aff.masks.length === workers) return null;
  return 'the number of "worker_processes" is not equal to the number of "worker_cpu_affinity" masks, ' +
    'using last mask for remaining worker processes';
}
