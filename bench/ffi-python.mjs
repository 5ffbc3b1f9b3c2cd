#!/usr/bin/env node
// Python through the ring against Python behind a unix socket: the same echo written in Python,
// reached through the Python loader (tresty_examples.echo in an interpreter embedded in this
// process) and over a unix socket (an asyncio service, bench/servers/python-uds-echo.py, run by
// the same interpreter), from a plain Node process: same payloads, same formats, same client
// encoding. Alternating rounds per cell, the ratio is the median of the per-round ratios, and the
// CPU of every thread of both processes is counted per call (bench/lib/threads.mjs).
//   node bench/ffi-python.mjs [--quick] [--payloads 512,102400] [--formats raw] [--inflight 1,64]
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchArgs } from './lib/args.mjs';
import { checkEcho, drive, encodedSize, makeRequest } from './lib/drive.mjs';
import { spawnTracked, tempDir } from './lib/procs.mjs';
import { progress } from './lib/progress.mjs';
import { formatOf } from './lib/sides.mjs';
import { median, Samples, spread } from './lib/stats.mjs';
import { fmt } from './lib/table.mjs';
import { commandLine, runSuite } from './lib/suite.mjs';
import { cpuDelta, snapshot } from './lib/threads.mjs';
import { importDist, NATIVE_BUILD, ROOT } from './lib/tresty-dist.mjs';
import { connectUds } from './lib/uds-client.mjs';

const EXAMPLES = path.join(ROOT, 'native', 'loaders', 'examples', 'python');
const SERVER = path.join(ROOT, 'bench', 'servers', 'python-uds-echo.py');

/** The interpreter the loader embeds (native/build/loaders/python-probe.mk), for the UDS side. */
function loaderPython() {
  const probe = path.join(NATIVE_BUILD, 'loaders', 'python-probe.mk');
  const lib = path.join(NATIVE_BUILD, 'libffi_python3.so');
  if (!existsSync(lib) || !existsSync(probe)) {
    throw new Error('the Python loader is not built (apt-get install python3-dev python3-cffi, then npm run build)');
  }
  const exe = /^PY_EXE := (.+)$/m.exec(readFileSync(probe, 'utf8'))?.[1];
  if (!exe) throw new Error(`${probe} names no interpreter: run "npm run build"`);
  return exe;
}

async function openFfi(format) {
  const { loadFfi } = await importDist('src/ffi/index.js');
  const plugin = loadFfi('ffi_python3', 'tresty_examples.echo,init,threads=1', {
    format, maxQueue: 4096, timeoutMs: 0, searchPath: [NATIVE_BUILD], pythonPath: [EXAMPLES],
  });
  return { label: 'FFI', pids: [process.pid], call: (req) => plugin.call(req), close: () => plugin.unload() };
}

async function openUds(format, python) {
  const sock = path.join(tempDir('pyuds'), 'echo.sock');
  const server = spawnTracked(python, [SERVER, sock]);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${SERVER} did not start: ${server.output()}`)), 10_000);
    server.child.stdout.on('data', () => {
      if (server.output().includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.exited.then((code) => reject(new Error(`${SERVER} exited (${code}): ${server.output()}`)));
  });
  const f = await formatOf(format);
  const client = await connectUds(sock, { codec: { encode: (v) => f.encode(v), decode: (b) => f.decode(b) } });
  return {
    label: 'UDS',
    pids: [process.pid, server.child.pid],
    call: (req) => client.call(req),
    async close() {
      await client.close();
      await server.stop();
    },
  };
}

/** One measured run with the CPU every thread of the side's processes spent on it. */
async function measure(side, req, inflight, durationMs) {
  const before = snapshot(side.pids, { tree: false });
  const run = await drive(side.call, req, { inflight, durationMs });
  run.cpu = cpuDelta(before, snapshot(side.pids, { tree: false }));
  return run;
}

/** CPU µs per call, in total and per process/thread name, over all rounds of a side. */
function cpuPerCall(runs) {
  const calls = runs.reduce((a, r) => a + r.calls, 0);
  const byThread = new Map();
  let total = 0;
  for (const r of runs) {
    for (const p of r.cpu) {
      for (const t of p.threads) {
        const key = p.pid === process.pid ? `${t.name}` : `${p.comm}:${t.name}`;
        byThread.set(key, (byThread.get(key) ?? 0) + t.seconds);
        total += t.seconds;
      }
    }
  }
  const us = (s) => (s * 1e6) / calls;
  return {
    totalUs: us(total),
    // The peer process's threads stay even at 0 (a starved server on a loaded machine may not see
    // one 10 ms tick in a short run): the table must still say it was measured.
    threads: [...byThread].map(([name, s]) => ({ name, us: us(s) })).filter((t) => t.us >= 0.05 || t.name.includes(':'))
      .sort((a, b) => b.us - a.us),
  };
}

function summarize(runs) {
  const pooled = runs.reduce((acc, r) => acc.merge(r.samples), new Samples());
  return {
    rate: median(runs.map((r) => r.rate)),
    rounds: runs.map((r) => Math.round(r.rate)),
    calls: runs.reduce((a, r) => a + r.calls, 0),
    p50Us: pooled.percentile(50) * 1000,
    p99Us: pooled.percentile(99) * 1000,
    cpu: cpuPerCall(runs),
  };
}

export async function runFfiPython(opts) {
  const { formats, payloads, inflight: inflights, rounds, ffiMs } = opts;
  const started = new Date().toISOString();
  const title = 'Python FFI vs UDS: a Python echo through the loader and through an asyncio unix-socket server';
  let python;
  try {
    python = loaderPython();
  } catch (e) {
    // Not a failure of the run: this machine has no Python loader to measure.
    return { name: 'python', title, date: started, settings: { formats, payloads, inflight: inflights, rounds, msPerRound: ffiMs }, cells: [], notes: [`not measured: ${e.message}`] };
  }
  const prog = progress('ffi-python', formats.length * payloads.length * inflights.length);
  const cells = [];
  for (const format of formats) {
    const fmtObj = await formatOf(format);
    const sides = [await openFfi(format), await openUds(format, python)];
    try {
      const warmReq = makeRequest(format, payloads[0], fmtObj);
      for (const s of sides) await measure(s, warmReq, Math.max(...inflights), Math.min(500, ffiMs));
      for (const size of payloads) {
        const req = makeRequest(format, size, fmtObj);
        for (const s of sides) await checkEcho(s, req);
        for (const inflight of inflights) {
          prog.step(`${format} ${fmt.bytes(size)} x${inflight}`);
          for (const s of sides) await measure(s, req, inflight, Math.min(200, ffiMs / 2));
          const runs = { FFI: [], UDS: [] };
          for (let r = 0; r < rounds; r++) {
            const order = r % 2 ? [...sides].reverse() : sides;
            for (const s of order) runs[s.label].push(await measure(s, req, inflight, ffiMs));
          }
          const ratios = runs.FFI.map((f, i) => f.rate / runs.UDS[i].rate);
          cells.push({
            format, size, bytes: encodedSize(req, fmtObj), inflight,
            ffi: summarize(runs.FFI), uds: summarize(runs.UDS),
            ratio: median(ratios), ratioSpread: spread(ratios),
          });
        }
      }
    } finally {
      for (const s of sides) await s.close();
    }
  }
  prog.end();
  return {
    name: 'python',
    title,
    date: started,
    settings: { formats, payloads, inflight: inflights, rounds, msPerRound: ffiMs, python, ffiRuntime: 'libffi_python3.so, tresty_examples.echo (threads=1)' },
    cells,
    notes: [],
  };
}

export function ffiPythonTables(sec) {
  const us = (x) => (Number.isFinite(x) ? (x < 100 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US')) : 'n/a');
  const threads = (cpu) => cpu.threads.map((t) => `${t.name} ${us(t.us)}`).join(', ');
  const label = (c) => `${c.format} ${fmt.bytes(c.size)} x${c.inflight}`;
  return [
    {
      title: `${sec.title} (${sec.settings.rounds} round(s) x ${sec.settings.msPerRound} ms per side per cell)`,
      columns: [
        { key: 'format', label: 'format', align: 'left' },
        { key: 'payload', label: 'payload' },
        { key: 'inflight', label: 'in flight' },
        { key: 'ffiRate', label: 'FFI calls/s' },
        { key: 'ffiP50', label: 'FFI p50 µs' },
        { key: 'ffiP99', label: 'FFI p99 µs' },
        { key: 'udsRate', label: 'UDS calls/s' },
        { key: 'udsP50', label: 'UDS p50 µs' },
        { key: 'udsP99', label: 'UDS p99 µs' },
        { key: 'ratio', label: 'FFI/UDS' },
        { key: 'spread', label: 'ratio spread' },
        { key: 'ffiCpu', label: 'FFI CPU µs/call' },
        { key: 'udsCpu', label: 'UDS CPU µs/call' },
      ],
      rows: sec.cells.map((c) => ({
        format: c.format, payload: fmt.bytes(c.size), inflight: c.inflight,
        ffiRate: fmt.rate(c.ffi.rate), ffiP50: us(c.ffi.p50Us), ffiP99: us(c.ffi.p99Us),
        udsRate: fmt.rate(c.uds.rate), udsP50: us(c.uds.p50Us), udsP99: us(c.uds.p99Us),
        ratio: fmt.ratio(c.ratio), spread: sec.settings.rounds < 2 ? '' : `±${fmt.pct(c.ratioSpread / 2)}`,
        ffiCpu: us(c.ffi.cpu.totalUs), udsCpu: us(c.uds.cpu.totalUs),
      })),
      notes: [
        'FFI/UDS: calls/s ratio, the median of per-round ratios. CPU µs/call: every thread of the processes involved',
        `(this Node process; for UDS also the Python server), summed over the rounds and divided by the calls. Python: ${sec.settings.python ?? 'none'}.`,
        ...sec.notes,
      ],
    },
    {
      title: 'Python FFI vs UDS: CPU per call by thread (µs)',
      columns: [
        { key: 'cell', label: 'cell', align: 'left' },
        { key: 'ffi', label: 'FFI: thread µs/call', align: 'left' },
        { key: 'uds', label: 'UDS: thread µs/call (python3: the server)', align: 'left' },
      ],
      rows: sec.cells.map((c) => ({ cell: label(c), ffi: threads(c.ffi.cpu), uds: threads(c.uds.cpu) })),
      notes: ['node: the event loop (and libuv\'s threads); py-echo: the module\'s poller thread; tresty-python: the loader\'s own thread.'],
    },
  ];
}

export const pythonBench = { title: 'Python FFI vs UDS', run: runFfiPython, tables: ffiPythonTables };

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runSuite(['python'], benchArgs(), { python: pythonBench }, commandLine('ffi-python'));
}
