// ffi_poller_sched fifo puts a worker's pollers on its CPU as real-time threads: the wake-up a
// call makes switches to the poller on the spot, and the poller answers before the wake returns.
// The channel then settles the call in the same tick (src/ffi/channel.ts, wake), instead of a
// loop turn later. test/fixtures/ffi-fifo-settle.mjs counts calls settled before a setImmediate:
// 20 of 20 here, 1-3 without the settle in wake. (An ordinary poller bound to the caller's CPU is
// often switched to at once as well, 18 of 20 here, but only SCHED_FIFO makes it sure.)
// Needs the engine (it binds the threads) and the right to use SCHED_FIFO (root, as in CI).
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_BUILT } from './helpers/engine.js';
import { ROOT } from './helpers/server.js';
import { ensureNative } from './ffi-helpers.js';

const fixture = path.join(ROOT, 'test', 'fixtures', 'ffi-fifo-settle.mjs');
const canFifo = spawnSync('chrt', ['-f', '1', 'true']).status === 0;
const cpu0 = /^Cpus_allowed_list:\t0(?:[,-]|$)/m.test(fs.readFileSync('/proc/self/status', 'utf8'));
const why = !ENGINE_BUILT ? 'the native engine is not built' : !canFifo ? 'SCHED_FIFO is not permitted (needs root or CAP_SYS_NICE)' : !cpu0 ? 'CPU 0 is not usable here' : '';

type Counts = { fifo: number; sameTick: number; wakeHits: number };

async function run(mode: string): Promise<Counts> {
  const { stdout } = await promisify(execFile)(process.execPath, [fixture, ROOT, mode], { timeout: 20_000 });
  return JSON.parse(stdout) as Counts;
}

(why ? describe.skip : describe)(`a real-time poller on its caller's CPU${why ? ` (skipped: ${why})` : ''}`, () => {
  beforeAll(() => ensureNative());

  it('answers within the tick that made the call', async () => {
    const r = await run('fifo');
    expect(r.fifo).toBe(1);
    expect(r.sameTick, JSON.stringify(r)).toBeGreaterThanOrEqual(18);
    expect(r.wakeHits).toBeGreaterThanOrEqual(r.sameTick); // settled by the wake, not a look
  }, 30_000);
});
