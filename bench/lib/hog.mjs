// A CPU hog per core, so that a benchmark can run on a saturated machine (the state of a server
// under load) rather than a quiet one. Each hog is a busy Node process at normal priority,
// tracked for cleanup; stop() ends them. Optionally pinned with taskset (cores: [0, 1]).
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { spawnTracked } from './procs.mjs';

const BUSY = 'for (;;) { for (let i = 0; i < 1e7; i++); }';

function haveTaskset() {
  return spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0;
}

/** Starts `count` hogs (default: one per core). Returns { pids, stop() }. */
export function startHogs({ count = os.availableParallelism(), cores = null } = {}) {
  const pin = cores !== null && haveTaskset();
  const procs = [];
  for (let i = 0; i < count; i++) {
    const args = ['-e', BUSY];
    procs.push(pin
      ? spawnTracked('taskset', ['-c', String(cores[i % cores.length]), process.execPath, ...args])
      : spawnTracked(process.execPath, args));
  }
  return {
    pids: procs.map((p) => p.child.pid),
    async stop() { await Promise.all(procs.map((p) => p.stop(500))); },
  };
}
