// Opening a plugin library and wiring it to a fresh pair of rings: runtime libraries start
// their own pollers in libffi_init; function libraries get a piscina pool (pool.ts).
import { basename } from 'node:path';
import { TrestyError } from '../errors.js';
import * as L from '../ring/layout.js';
import { bindHost, type HostBindings, openLibrary, type PluginLibrary, type Ptr } from './bindings.js';
import { Channel } from './channel.js';
import { InlineChannel } from './inline.js';
import { builtHint } from './built-by.js';
import { handLoaderPaths, type LoaderPaths, loaderError } from './loaders.js';
import { findLibrary, hostLibraryPath, poolThreadPath } from './locate.js';
import type { Core } from './plugin.js';
import { startPool } from './pool.js';

let host: HostBindings | undefined;

/** The host library, loaded once per process (RTLD_GLOBAL) before any runtime. */
export function getHost(): HostBindings {
  return (host ??= bindHost(hostLibraryPath()));
}

// Native threads of an unloaded runtime may still poll or answer late: their ring memory is
// kept for the life of the process (a few hundred KB per unloaded runtime plugin).
const retired: SharedArrayBuffer[] = [];
const ALL = 0x7fffffff; // wake every poller (at unload)

// Runtime queues whose pollers may still be inside the host. When the process ends, V8 frees
// every SharedArrayBuffer, ring memory included, while those threads may be reading it: so at
// 'exit' (before that teardown) each queue is closed: its pollers leave task_poll, and any later
// poll returns NULL without touching the memory.
const openQueues = new Set<Ptr>();
let exitHooked = false;
const EXIT_WAIT_MS = 200; // per queue; pollers leave within microseconds unless descheduled

function closeQueuesAtExit(): void {
  const h = host;
  if (!h) return;
  const left: [number] = [0];
  for (const tq of openQueues) h.tqClose(tq, EXIT_WAIT_MS, left);
  openQueues.clear();
}

function trackQueue(tq: Ptr): void {
  openQueues.add(tq);
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', closeQueuesAtExit);
  }
}

/** Where FFI warnings go (a worker sets its error log; stderr otherwise). */
let warn: (msg: string) => void = (msg) => process.stderr.write(`tresty: [warn] ${msg}\n`);
export function setFfiWarn(fn: (msg: string) => void): void {
  warn = fn;
}

export interface CoreSpec extends LoaderPaths {
  lib: string;
  cfg: string | null;
  kind: 'runtime' | 'function';
  symbol?: string;
  maxQueue: number;
  maxResponse: number;
  blocking: boolean;
  searchPath: readonly string[];
}

/** Ring slots: enough for max_queue, at most 1024 (more calls wait in a JS backlog). */
export function ringCapacity(maxQueue: number): number {
  let cap = 2;
  while (cap < maxQueue && cap < 1024) cap *= 2;
  return cap;
}

function open(path: string): PluginLibrary {
  try {
    return openLibrary(path);
  } catch (e) {
    const msg = (e as Error).message;
    const code = /undefined symbol/.test(msg) ? 'TRESTY_ERR_FFI_SYMBOL' : 'TRESTY_ERR_FFI_NOT_FOUND';
    // A loader whose JDK or libpython is gone since it was built: say how to get a working one.
    const hint = /cannot open shared object/.test(msg) ? builtHint(basename(path)) : '';
    throw new TrestyError(code, `ffi library ${path} cannot be loaded: ${msg}${hint}`, { cause: e });
  }
}

function symbol(lib: PluginLibrary, name: string, hint: string): Ptr {
  try {
    return lib.symbol(name);
  } catch (e) {
    throw new TrestyError('TRESTY_ERR_FFI_SYMBOL', `ffi library ${lib.path} does not export ${name}: ${hint}`, { cause: e });
  }
}

export function openCore(spec: CoreSpec): Core {
  if (spec.kind === 'function' && !spec.symbol) {
    throw new TrestyError('TRESTY_ERR_API_ARGS', `ffi library ${spec.lib}: a function plugin needs the symbol of the C function to call`);
  }
  const h = getHost();
  const path = findLibrary(spec.lib, spec.searchPath);
  const lib = open(path);
  h.pinLibrary(path); // its threads may run its code until the process is gone (see the host)
  const entry = spec.kind === 'runtime'
    ? symbol(lib, 'libffi_init', 'a runtime exports int libffi_init(char *cfg, void *tq); ' +
      'for a library of plain C functions use kind function and name the symbol')
    : symbol(lib, spec.symbol ?? '', 'name the exported int fn(const char *req, int len, char **rsp, int *rsp_len) ' +
      'to call with the symbol option');
  if (!spec.blocking && spec.kind !== 'function') {
    throw new TrestyError('TRESTY_ERR_API_ARGS', `ffi library ${spec.lib}: blocking off is for kind function ` +
      '(a runtime runs its own threads)');
  }
  if (spec.kind === 'function' && !spec.blocking) {
    const channel = new InlineChannel(h, entry, spec.maxResponse, spec.lib);
    return once({ channel, path, unload: () => channel.close() });
  }
  if (spec.kind === 'function') poolThreadPath(); // fail before anything is allocated
  const sab = L.createRingMemory(ringCapacity(spec.maxQueue), spec.maxResponse);
  const outTq: [Ptr | null] = [null];
  const outFd: [number] = [-1];
  if (h.tqNew(new Uint8Array(sab), sab.byteLength, outTq, outFd) !== 0 || !outTq[0]) {
    throw new TrestyError('TRESTY_ERR_FFI_UNAVAILABLE', `tresty host: ${h.lastError()}`);
  }
  const tq = outTq[0];
  const i32 = new Int32Array(sab);
  const label = spec.lib;
  if (spec.kind === 'function') {
    const wake = (n: number) => {
      Atomics.add(i32, L.SUB_FUTEX >> 2, 1);
      Atomics.notify(i32, L.SUB_FUTEX >> 2, n);
    };
    const failed = (e: Error) => channel.fail(new TrestyError('TRESTY_ERR_FFI_UNAVAILABLE',
      `ffi plugin ${label}: a pool thread failed (${e.message}); rebuild with "npm run build" and reload`));
    const pool = startPool({ sab, tq, fn: entry, hostPath: h.path }, failed);
    const channel: Channel = new Channel(sab, tq, outFd[0], h, wake, spec.maxQueue, label, () => pool.kick(), warn);
    return once({
      channel, path,
      async unload() {
        await channel.close();
        await pool.stop(); // the loops drain the ring and end: nothing touches the tq any more
        h.tqDetach(tq);
        channel.drain(); // frees answers nobody waits for any more
        h.tqFree(tq);
        channel.tqFreed = true;
        channel.destroy();
      },
    });
  }
  const channel = new Channel(sab, tq, outFd[0], h, (n) => h.tqWake(tq, n), spec.maxQueue, label, null, warn);
  trackQueue(tq);
  const shutdown = () => {
    Atomics.store(i32, L.STATE >> 2, L.STATE_CLOSING); // pollers drain, then poll returns NULL
    h.tqWake(tq, ALL);
    h.tqDetach(tq);
    channel.drain(); // after detach nothing more is pushed: free answers to timed-out calls
    channel.destroy();
    retired.push(sab);
  };
  const rc: [number] = [0];
  try {
    handLoaderPaths(lib, spec);
  } catch (e) {
    shutdown();
    throw e;
  }
  if (h.runtimeInit(tq, entry, spec.cfg, rc) !== 0) {
    shutdown();
    throw new TrestyError('TRESTY_ERR_FFI_INIT', `tresty host: ${h.lastError()}`);
  }
  if (rc[0] !== 0) {
    shutdown();
    const detail = loaderError(lib); // a loader's traceback or stack trace
    throw new TrestyError('TRESTY_ERR_FFI_INIT', `libffi_init of ${path} returned ${rc[0]}` +
      ` (config ${spec.cfg === null ? 'NULL' : JSON.stringify(spec.cfg)}): ${detail || 'check the config and the runtime\'s log'}`);
  }
  return once({
    channel, path,
    async unload() {
      await channel.close();
      shutdown();
    },
  });
}

/** unload() runs once; later calls share its promise. */
function once(core: Core): Core {
  let p: Promise<void> | undefined;
  const unload = core.unload.bind(core);
  return { channel: core.channel, path: core.path, unload: () => (p ??= unload()) };
}
