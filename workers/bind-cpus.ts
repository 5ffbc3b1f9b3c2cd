// worker_cpu_affinity in a worker: its threads onto its CPUs, and its FFI pollers where
// ffi_poller_cpu_affinity and ffi_poller_sched put them, now and for runtimes loaded later.
import type { CpuAffinity, MainConf } from '../src/config/types.js';
import { setPollerPlacement } from '../src/ffi/placement.js';
import { type EngineBinding, engineUnavailable, loadEngine } from '../src/http/native-binding.js';
import type { ErrorLog } from '../src/log/index.js';
import { maskCountWarning, pollerCpus, workerCpus } from '../src/master/cpu-affinity.js';
import { errnoMessage } from './errno.js';

export interface BindOptions {
  affinity: CpuAffinity;
  slot: number;
  workers: number;
  where: MainConf['ffiPollerCpuAffinity'];
  sched: MainConf['ffiPollerSched'];
}

/**
 * Every thread of this worker, its FFI pollers included (they exist once the pipeline is built),
 * on the CPUs chosen for its slot; with ffi_poller_cpu_affinity next, the pollers on the next
 * slot's; with ffi_poller_sched fifo, the pollers real-time once bound with their worker. A
 * failure is logged, as nginx does, and the worker runs unbound (or its pollers ordinary).
 */
export function bindCpus(log: ErrorLog, o: BindOptions): void {
  const engine = loadEngine();
  if (!engine) {
    log.alert(`worker_cpu_affinity: not applied, ${engineUnavailable()}`);
    return;
  }
  const warning = o.slot === 0 ? maskCountWarning(o.affinity, o.workers) : null;
  if (warning) log.warn(warning);
  const allowed = engine.allowedCpus();
  const cpus = workerCpus(o.affinity, o.slot, allowed);
  if (!cpus) return;
  for (const c of cpus) log.notice(`sched_setaffinity(): using cpu #${c}`);
  const pollers = o.where === 'next' ? pollerCpus(o.affinity, o.slot, o.workers, allowed) : null;
  if (pollers) log.notice(`sched_setaffinity(): ffi pollers using cpu #${pollers.join(', #')}`);
  if (!pin(log, engine, cpus, pollers)) return; // unbound, a real-time poller could take a core from anyone
  const fifo = o.sched === 'fifo' && cpus.length === 1;
  if (fifo) setFifo(log, engine, cpus[0]!);
  // A later runtime's threads inherit the event loop's CPUs and policy: right unless its pollers go elsewhere.
  if (pollers || fifo) {
    setPollerPlacement(() => {
      if (pin(log, engine, cpus, pollers) && fifo) setFifo(log, engine, cpus[0]!);
    });
  }
}

function pin(log: ErrorLog, engine: EngineBinding, cpus: readonly number[], pollers: readonly number[] | null): boolean {
  const r = engine.pinThreads(cpus, pollers ?? undefined);
  if (r < 0) log.alert(`sched_setaffinity() failed (${-r}: ${errnoMessage(r)})`);
  return r >= 0;
}

function setFifo(log: ErrorLog, engine: EngineBinding, cpu: number): void {
  const n = engine.fifoPollers();
  if (n < 0) log.alert(`sched_setscheduler(SCHED_FIFO) failed (${-n}: ${errnoMessage(n)}), ffi pollers stay ordinary`);
  else log.notice(`sched_setscheduler(): ${n} ffi poller${n === 1 ? '' : 's'} SCHED_FIFO on cpu #${cpu}`);
}
