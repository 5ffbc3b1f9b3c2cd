// Every process and temp dir a benchmark starts is registered here, so that it is cleaned up at
// the end, on failure and on Ctrl-C alike. Children get their own process group (detached), so
// one kill of -pid also reaches the workers a master forked, and only what we started.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const children = new Set();
const dirs = new Set();
let hooked = false;

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try { child.kill(signal); } catch { /* already gone */ }
  }
}

function cleanupNow() {
  for (const c of children) killGroup(c, 'SIGKILL');
  children.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

function hook() {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping every process it started\n`);
      cleanupNow();
      process.exit(130);
    });
  }
}

/**
 * Spawns a tracked child in its own process group. Returns the child plus `stop()`, which sends
 * SIGTERM to the group, waits up to graceMs, then SIGKILLs it.
 */
export function spawnTracked(cmd, args, opts = {}) {
  hook();
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts, detached: true });
  children.add(child);
  let out = '';
  const keep = (d) => { out = (out + d).slice(-8192); }; // the tail, for error messages
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, sig) => {
    children.delete(child);
    resolve(code ?? sig);
  }));
  child.once('error', () => children.delete(child));
  return {
    child,
    exited,
    output: () => out,
    async stop(graceMs = 3000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      killGroup(child, 'SIGTERM');
      const t = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
      const r = await exited;
      clearTimeout(t);
      killGroup(child, 'SIGKILL'); // workers that outlived their master
      return r;
    },
  };
}

/** A temp dir removed at exit. */
export function tempDir(tag) {
  hook();
  const d = mkdtempSync(path.join(os.tmpdir(), `tresty-bench-${tag}-`));
  dirs.add(d);
  return d;
}

/** Removes one temp dir now. */
export function dropDir(d) {
  rmSync(d, { recursive: true, force: true });
  dirs.delete(d);
}

/** Lets callers with their own children (startUdsEcho) take part in Ctrl-C cleanup. */
export function onCleanup(fn) {
  hook();
  process.on('exit', fn);
}
