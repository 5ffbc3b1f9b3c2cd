// CPU of every thread of the processes a benchmark measures, read from /proc/PID/task/*/stat:
// a result without the CPU it cost (poller threads, pool threads, workers, peers) hides where a
// saturated machine spends its cores. snapshot() before and after a run; cpuDelta() gives, per
// process and thread name, the CPU seconds used in between. Linux only; elsewhere it is empty.
// The time comes from the thread's schedstat (nanoseconds the scheduler ran it) when the kernel
// has it: utime+stime are sampled at each 10 ms tick, and a thread that works in short bursts on
// a loaded machine can show 0 over a short run (a quick run's Python server did). stat's ticks are
// the fallback, and stat still names the thread.
import { readFileSync, readdirSync } from 'node:fs';

const HZ = 100; // USER_HZ: the unit of utime/stime in /proc on Linux (sysconf(_SC_CLK_TCK))

/** The pids of `pid` and all its descendants (a master and its workers). */
export function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let kids = '';
    try {
      kids = readdirSync(`/proc/${out[i]}/task`).map((t) => {
        try { return readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8'); } catch { return ''; }
      }).join(' ');
    } catch { continue; }
    for (const k of kids.split(/\s+/)) if (k) out.push(Number(k));
  }
  return out;
}

function parseStat(text) {
  // comm is in parentheses and may hold spaces or parentheses: split after the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  // fields after comm: state(0) ... utime(11) stime(12)
  return { comm, ticks: Number(f[11]) + Number(f[12]), user: Number(f[11]) };
}

/** Nanoseconds on a CPU and times put on one from a schedstat file (`run_ns wait_ns slices`), or nulls without one. */
function schedstat(file) {
  try {
    const f = readFileSync(file, 'utf8').split(' ');
    return { ns: Number(f[0]), slices: Number(f[2]) };
  } catch { return { ns: null, slices: null }; }
}

/** { pid: { comm, threads: { tid: { comm, ticks, ns } } } } for the given pids (and their children if tree). */
export function snapshot(pids, { tree = true } = {}) {
  const all = tree ? [...new Set(pids.flatMap(processTree))] : pids;
  const snap = {};
  for (const pid of all) {
    let tids;
    try { tids = readdirSync(`/proc/${pid}/task`); } catch { continue; }
    let comm = '';
    try { comm = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).comm; } catch { continue; }
    const threads = {};
    for (const tid of tids) {
      try {
        threads[tid] = { ...parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')), ...schedstat(`/proc/${pid}/task/${tid}/schedstat`) };
      } catch { /* exited */ }
    }
    snap[pid] = { comm, threads };
  }
  return snap;
}

/**
 * CPU seconds per process and per thread name between two snapshots, threads of the same name in
 * one process summed (libuv's pool threads all say `node`, say). Threads born after `before`
 * count from zero. Returns [{ pid, comm, total, threads: [{ name, seconds, count, slices, user }] }], busiest
 * first (slices: times put on a CPU, from schedstat; 0 without it; user: seconds in user space).
 */
export function cpuDelta(before, after) {
  const rows = [];
  for (const [pid, p] of Object.entries(after)) {
    const b = before[pid]?.threads ?? {};
    const byName = new Map();
    let total = 0;
    for (const [tid, t] of Object.entries(p.threads)) {
      const was = b[tid];
      const s = t.ns !== null && (was === undefined || was.ns !== null)
        ? (t.ns - (was?.ns ?? 0)) / 1e9
        : (t.ticks - (was?.ticks ?? 0)) / HZ;
      total += s;
      const e = byName.get(t.comm) ?? { name: t.comm, seconds: 0, count: 0, slices: 0, user: 0 };
      e.seconds += s;
      // user space alone (10 ms ticks): what a change to JS moves, without the kernel's TCP work
      e.user += (t.user - (was?.user ?? 0)) / HZ;
      e.slices += t.slices !== null ? t.slices - (was?.slices ?? 0) : 0;
      e.count++;
      byName.set(t.comm, e);
    }
    rows.push({ pid: Number(pid), comm: p.comm, total, threads: [...byName.values()].sort((x, y) => y.seconds - x.seconds) });
  }
  return rows.sort((x, y) => y.total - x.total);
}

/** One line per process: `comm pid 1.23 s (main 1.10, echo_c-poll 0.13)`, threads under 0.01 s left out. */
export function describeCpu(rows, seconds) {
  return rows.filter((r) => r.total >= 0.01).map((r) => {
    const th = r.threads.filter((t) => t.seconds >= 0.01).map((t) => `${t.name}${t.count > 1 ? `x${t.count}` : ''} ${t.seconds.toFixed(2)}`);
    const pct = seconds ? ` = ${((100 * r.total) / seconds).toFixed(0)}% of a core` : '';
    return `${r.comm} ${r.pid} ${r.total.toFixed(2)} s${pct} (${th.join(', ')})`;
  }).join('\n');
}

/**
 * Idle and total jiffies from /proc/stat: of the whole machine (its first line), or of one CPU
 * (`cpuN`) when `core` is given; idle share = Δidle / Δtotal. Null for a CPU /proc/stat lacks.
 */
export function machineJiffies(core) {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const line = core === undefined ? lines[0] : lines.find((l) => l.startsWith(`cpu${core} `));
  if (!line) return null;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] + f[4], total: f.reduce((x, y) => x + y, 0) };
}

/** Busy share (0..1) of a CPU between two machineJiffies(core) readings; null if unknown. */
export function busyShare(a, b) {
  if (!a || !b || b.total <= a.total) return null;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}
