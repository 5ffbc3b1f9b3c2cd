// The kernel's autogroups (/proc/sys/kernel/sched_autogroup_enabled): with them on, each session is
// one scheduling entity, so a detached server (the UDS echo server, wrk) weighs as much as all of
// tresty's threads, its pollers included. Benchmarks print the state and may set it for a run.
// The setting applies to processes started after it: set it before starting any server.
import { readFileSync, writeFileSync } from 'node:fs';
import { onCleanup } from './procs.mjs';

const FILE = '/proc/sys/kernel/sched_autogroup_enabled';

/** 'on', 'off', or 'absent' (a kernel without autogroups). */
export function autogroupState() {
  try {
    return readFileSync(FILE, 'utf8').trim() === '1' ? 'on' : 'off';
  } catch {
    return 'absent';
  }
}

/** Sets autogroups to `want` ('on' | 'off') until this process exits (or is stopped by Ctrl-C: procs.mjs's
 *  cleanup), then puts the old state back.
 *  Throws an Error with a plain message when the kernel has none or the file is not writable. */
export function setAutogroups(want) {
  const was = autogroupState();
  if (was === 'absent') throw new Error(`${FILE} is missing: this kernel has no autogroups`);
  if (was === want) return;
  try {
    writeFileSync(FILE, want === 'on' ? '1' : '0');
  } catch (e) {
    throw new Error(`cannot write ${FILE} (${e.code}): setting autogroups needs root`);
  }
  onCleanup(() => {
    try { writeFileSync(FILE, was === 'on' ? '1' : '0'); } catch { /* nothing more to do */ }
  });
}
