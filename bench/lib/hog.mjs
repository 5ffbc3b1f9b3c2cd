// A CPU hog per core, so that a benchmark can run on a saturated machine (the state of a server
// under load) rather than a quiet one. Each hog is a busy Node process at normal priority,
// tracked for cleanup; stop() ends them. Optionally pinned with taskset (cores: [0, 1]), or run
// under SCHED_IDLE (idle: true, through chrt), so that they take only time a core would idle away.
import os from 'node:os';
import { have } from './pinned.mjs';
import { spawnTracked } from './procs.mjs';

const BUSY = 'for (;;) { for (let i = 0; i < 1e7; i++); }';

/** Starts `count` hogs (default: one per core). Returns { pids, stop() }. */
export function startHogs({ count = os.availableParallelism(), cores = null, idle = false } = {}) {
  const pin = cores !== null && have('taskset');
  if (idle && !have('chrt')) throw new Error('idle hogs need chrt (Debian: util-linux)');
  const procs = [];
  for (let i = 0; i < count; i++) {
    let argv = [process.execPath, '-e', BUSY];
    if (idle) argv = ['chrt', '-i', '0', ...argv];
    if (pin) argv = ['taskset', '-c', String(cores[i % cores.length]), ...argv];
    procs.push(spawnTracked(argv[0], argv.slice(1)));
  }
  return {
    pids: procs.map((p) => p.child.pid),
    async stop() { await Promise.all(procs.map((p) => p.stop(500))); },
  };
}
