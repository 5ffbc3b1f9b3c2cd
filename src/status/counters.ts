// stub_status's counters: one page of shared memory the master creates at start (kept across
// reloads, removed at exit, as nginx keeps its counters in shared memory made once), mapped by
// every worker through the engine's addon (native/engine/stat_napi.c). The native engine bumps
// them in C (native/engine/stat.h); the node:http path and the status page use the same slots
// here. Without the addon a worker counts in its own memory (its own connections only).
import fs from 'node:fs';
import path from 'node:path';
import type { EventEmitter } from 'node:events';
import { TrestyError } from '../errors.js';
import { shmDir, sweepStale } from '../shared/index.js';

/** The slots, in native/engine/stat.h's order. */
export const SLOT = { active: 0, accepted: 1, handled: 2, requests: 3, reading: 4, writing: 5 } as const;
export type Slot = (typeof SLOT)[keyof typeof SLOT];

const BYTES = 4096;

let view = new BigInt64Array(8);

/** The master's page: `tresty.<pid>.0.status` (zone segments count from 1), swept like them. */
export function createStatusPage(dir = shmDir()): string {
  sweepStale(dir);
  const file = path.join(dir, `tresty.${process.pid}.0.status`);
  try {
    fs.writeFileSync(file, Buffer.alloc(BYTES), { mode: 0o600 });
  } catch (e) {
    throw new TrestyError('TRESTY_ERR_STATUS_SHM', `cannot create the stub_status counters ${file}: ${(e as Error).message}`, { cause: e });
  }
  process.once('exit', () => fs.rmSync(file, { force: true }));
  return file;
}

/** The engine addon's mapper (src/http/native-binding.ts), passed in: status/ sits below http/. */
type Mapper = { statusAttach?(path: string): ArrayBuffer } | null;

/** A worker maps the master's page (no-op without the engine's addon: counts stay local). */
export function attachStatus(file: string | undefined, engine: Mapper): void {
  if (!file || !engine?.statusAttach) return;
  try {
    view = new BigInt64Array(engine.statusAttach(file), 0, 8);
  } catch (e) {
    throw new TrestyError('TRESTY_ERR_STATUS_SHM', `cannot map the stub_status counters ${file}: ${(e as Error).message}`, { cause: e });
  }
}

export function statusAdd(slot: Slot, d: 1 | -1): void {
  Atomics.add(view, slot, d === 1 ? 1n : -1n);
}

/** node:http's side (the engine counts its own in C): a connection, until its socket closes. */
export function countConnection(socket: EventEmitter): void {
  statusAdd(SLOT.accepted, 1);
  statusAdd(SLOT.handled, 1);
  statusAdd(SLOT.active, 1);
  socket.once('close', () => statusAdd(SLOT.active, -1));
}

/** node:http's side: a request, writing from its head (node parsed it whole) to its end. */
export function countRequest(res: EventEmitter): void {
  statusAdd(SLOT.requests, 1);
  statusAdd(SLOT.writing, 1);
  res.once('close', () => statusAdd(SLOT.writing, -1));
}

export interface StatusCounts {
  active: bigint;
  accepted: bigint;
  handled: bigint;
  requests: bigint;
  reading: bigint;
  writing: bigint;
  /** active - reading - writing, as nginx computes it. */
  waiting: bigint;
}

export function statusCounts(): StatusCounts {
  const g = (s: Slot): bigint => Atomics.load(view, s);
  const c = { active: g(SLOT.active), accepted: g(SLOT.accepted), handled: g(SLOT.handled), requests: g(SLOT.requests),
    reading: g(SLOT.reading), writing: g(SLOT.writing) };
  const w = c.active - c.reading - c.writing;
  return { ...c, waiting: w < 0n ? 0n : w };
}
