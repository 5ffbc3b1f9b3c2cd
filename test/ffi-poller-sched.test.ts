// A runtime's poller thread runs under the scheduling policy TRESTY_FFI_POLLER_SCHED names, set by
// the host at the thread's first poll (native/host/tresty_host.c, poller_policy), and is left as
// created without it. A switch for measurements (bench/README.md, issue 10: a woken SCHED_OTHER
// poller preempts the worker that woke it on a shared core; SCHED_BATCH does not, but through HTTP
// it made more wakes and doorbells per request). Read where the kernel keeps it: field 41 of
// /proc/PID/task/TID/stat (0 SCHED_OTHER, 3 SCHED_BATCH, 5 SCHED_IDLE) and field 19 (nice), for the
// worker's `echo_c-poll` thread, which must still answer. Skipped when the native libraries are not built.
import fs from 'node:fs';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { ffiEchoBuilt, startFfiEcho } from './helpers/ffi-echo.js';
import { freePort, httpGet, stopAll } from './helpers/server.js';

const built = ffiEchoBuilt();

/** Scheduling policy (stat field 41) and nice (field 19) of every thread of pid whose name is comm. */
function policies(pid: number, comm: string): [number, number][] {
  const out: [number, number][] = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let st = '';
    try { st = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'); } catch { continue; }
    const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
    if (name !== comm) continue;
    // Fields after ") " start at field 3 (state): field 41 is the 39th of them, field 19 the 17th.
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    out.push([Number(f[38]), Number(f[16])]);
  }
  return out;
}

async function pollerPolicy(env: Record<string, string>): Promise<[number, number][]> {
  const port = await freePort();
  const t = await startFfiEcho(port, 'worker_processes 1;', env);
  const r = await httpGet(port, '/echo', { method: 'POST', body: 'ping' });
  expect(r.status).toBe(200);
  expect(r.body).toBe('ping');
  const [worker] = [...t.workerPids];
  return policies(worker!, 'echo_c-poll');
}

(built ? describe : describe.skip)(`FFI poller scheduling policy${built ? '' : ' (skipped: native/build not built)'}`, () => {
  afterEach(stopAll);

  it('is left as created (SCHED_OTHER, the worker\'s nice) without the switch', async () => {
    expect(await pollerPolicy({ TRESTY_FFI_POLLER_SCHED: '' })).toEqual([[0, os.getPriority()]]);
  });

  it('follows TRESTY_FFI_POLLER_SCHED (batch, idle, nice:N)', async () => {
    expect(await pollerPolicy({ TRESTY_FFI_POLLER_SCHED: 'batch' })).toEqual([[3, os.getPriority()]]);
    expect((await pollerPolicy({ TRESTY_FFI_POLLER_SCHED: 'idle' })).map(([p]) => p)).toEqual([5]);
    // The lowest priority needs no privilege, so this holds for any user.
    expect(await pollerPolicy({ TRESTY_FFI_POLLER_SCHED: 'nice:19' })).toEqual([[0, 19]]);
  });
});
