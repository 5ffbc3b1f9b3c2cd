// The HTTP worker process (forked by the master through node:cluster): resolves the conf the
// master sent, builds the request pipeline, listens on the shared sockets, reports ready,
// and stops gracefully (QUIT) or at once (TERM/INT) when told to.
import os from 'node:os';
import { loadConf } from '../src/config/index.js';
import { isTrestyError, TrestyError } from '../src/errors.js';
import { setBellWatcher } from '../src/ffi/bell.js';
import { createFront, type Front } from '../src/http/front.js';
import { engineUnavailable, loadEngine } from '../src/http/native-binding.js';
import { ErrorLog, reopenLogs } from '../src/log/index.js';
import { dropPrivileges } from '../src/master/privileges.js';
import { startWatchdog } from '../src/master/watchdog.js';
import { isTrestyMessage, type MasterToWorker, type WorkerStart, type WorkerToMaster } from '../src/master/protocol.js';
import { createWorkerPipeline, type WorkerPipeline } from '../src/phases/index.js';
import { attachZones } from '../src/shared/index.js';
import { attachStatus } from '../src/status/counters.js';
import { bindCpus } from './bind-cpus.js';
import { errnoMessage } from './errno.js';


process.title = 'tresty: worker process';
const log = new ErrorLog();
let front: Front | null = null;
let pipeline: WorkerPipeline | null = null;
let stopping = false;
/** worker_shutdown_timeout of the conf this worker serves (ms, 0 = none). */
let shutdownTimeout = 0;

function send(m: WorkerToMaster): void {
  if (process.connected) process.send!(m);
}

async function start(msg: WorkerStart): Promise<void> {
  try {
    const { conf } = loadConf({ file: msg.file, prefix: msg.prefix, globals: msg.globals, snapshot: msg.snapshot });
    log.configure(conf.errorLog);
    shutdownTimeout = conf.workerShutdownTimeout;
    for (const [k, v] of conf.env) process.env[k] = v;
    if (conf.workerRlimitNofile > 0) setRlimit('NOFILE', conf.workerRlimitNofile);
    if (conf.workerRlimitCore !== null) setRlimit('CORE', conf.workerRlimitCore);
    if (conf.workingDirectory !== null) changeDirectory(conf.workingDirectory);
    attachZones(msg.shm ?? []);
    attachStatus(msg.status, loadEngine());
    clustered = msg.listenFds === undefined;
    pipeline = await createWorkerPipeline(conf, { id: msg.slot, count: msg.count });
    if (stopping) return;
    const affinity = conf.workerCpuAffinity ?? (process.env.TRESTY_WORKER_CPU === 'auto' ? { auto: true as const, cpus: null } : null);
    if (affinity) bindCpus(log, { affinity, slot: msg.slot, workers: conf.workerProcesses, where: conf.ffiPollerCpuAffinity, sched: conf.ffiPollerSched });
    if (conf.workerPriority !== 0) setPriority(conf.workerPriority);
    if (conf.http) {
      front = createFront(msg.engine, conf.http, pipeline.handle, log, conf, msg.listenFds ?? [], pipeline);
      await front.listen();
      // FFI completions wake the engine's epoll, not a socket of their own (src/ffi/bell.ts).
      const watch = front.watchFd;
      if (watch) setBellWatcher(process.env.TRESTY_FFI_BELL === 'socket' ? null : watch.bind(front));
    }
    // Listening (the master's sockets are ours already) and logs open: now the `user`.
    dropPrivileges(conf);
    // Watched from now on: loading and compiling at start may take long on a busy machine.
    if (conf.workerWatchdogTimeout > 0) startWatchdog(conf.workerWatchdogTimeout, conf.errorLog);
    send({ tresty: 'ready', addresses: front?.addresses() ?? [] });
  } catch (e) {
    const code = isTrestyError(e) ? e.code : 'TRESTY_ERR_WORKER_START';
    const message = e instanceof Error ? e.message : String(e);
    log.emerg(message);
    // Exit only once the master has the reason: a message still queued would die with us.
    if (!process.connected) exit(2);
    process.send!({ tresty: 'fatal', code, message } satisfies WorkerToMaster, undefined, {}, () => exit(2));
  }
}

/** worker_rlimit_nofile / worker_rlimit_core: set through the engine addon (Node has no setrlimit). */
function setRlimit(what: 'NOFILE' | 'CORE', n: number): void {
  const engine = loadEngine();
  if (!engine) {
    log.warn(`worker_rlimit_${what.toLowerCase()}: not applied, ${engineUnavailable()}`);
    return;
  }
  const r = what === 'NOFILE' ? engine.setNofile(n) : engine.setCore(n);
  if (r < 0) log.alert(`setrlimit(RLIMIT_${what}, ${n}) failed (${-r}: ${errnoMessage(r)})`);
}

/** working_directory: nginx's worker cannot go on without it (it exits, code 2): a failed start. */
function changeDirectory(dir: string): void {
  try {
    process.chdir(dir);
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).errno ?? 0;
    throw new TrestyError('TRESTY_ERR_WORKER_START', `chdir("${dir}") failed (${-errno}: ${errnoMessage(errno)})`);
  }
}

/** worker_priority: as nginx, a failure (raising priority without root) is an alert, not fatal. */
function setPriority(n: number): void {
  try {
    os.setPriority(n);
  } catch (e) {
    const errno = (e as { info?: { errno?: number } }).info?.errno ?? 0;
    log.alert(`setpriority(${n}) failed (${-errno}: ${errnoMessage(errno)})`);
  }
}

/** Forked by node:cluster (no master-owned sockets). */
let clustered = false;
let onReplaced: (() => void) | null = null;

/**
 * Resolves when the master says the replacement is ready, or after REPLACE_WAIT_MS anyway (a
 * replacement that never comes up). Well past a start-up on a loaded machine: with 5 s the old
 * worker stopped listening first at load 15, and the master refused connections meanwhile.
 */
const REPLACE_WAIT_MS = 30_000;
function replacement(): Promise<void> {
  if (!process.connected) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, REPLACE_WAIT_MS);
    onReplaced = () => { clearTimeout(timer); resolve(); };
  });
}

/** Resolves when the master answers `closing` (or cannot: then no hand-off can come either). */
let onClosed: (() => void) | null = null;
function masterStoppedHandingOff(): Promise<void> {
  if (!process.connected) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, 2000);
    function done(): void {
      clearTimeout(timer);
      process.off('disconnect', done);
      onClosed = null;
      resolve();
    }
    onClosed = done;
    process.once('disconnect', done);
    send({ tresty: 'closing' });
  });
}

/** Stops accepting, lets the requests in flight finish, then runs the pipeline's shutdown. */
async function finish(): Promise<void> {
  try {
    await front?.drain(masterStoppedHandingOff);
    await pipeline?.shutdown();
  } catch (e) {
    log.error(`shutdown: ${(e as Error).message}`);
  }
}

async function quit(): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.notice('gracefully shutting down');
  // A long poll or a websocket can see it and finish (nginx's ngx_exiting).
  pipeline?.beginExit();
  const limit = shutdownTimeout;
  if (limit > 0) {
    // worker_shutdown_timeout: what is still open then (raw sockets, websockets, long requests)
    // is cut, as nginx closes its connections; without it, the worker waits for them all.
    setTimeout(() => {
      log.notice(`worker_shutdown_timeout ${limit}ms expired, closing the connections left`);
      front?.closeNow();
      // The timers' and plugins' shutdown gets a moment, not a say in whether the worker exits.
      const bye = (): void => { log.notice('exiting'); exit(0); };
      setTimeout(bye, 2000).unref();
      void (pipeline?.shutdown() ?? Promise.resolve()).catch(() => {}).finally(bye);
    }, limit).unref();
  }
  await finish();
  log.notice('exiting');
  exit(0);
}

/** How long a worker that hit a fault (below) lets its in-flight requests run before it exits anyway. */
const FAULT_DRAIN_MS = 10_000;

/**
 * An exception no request owns (thrown in a timer or an event emitter, a promise rejected with
 * nobody to catch it): the worker's state may be broken, so it leaves, but without losing what
 * it is doing. It tells the master (which starts a replacement at once), stops accepting, lets
 * its in-flight requests finish for at most FAULT_DRAIN_MS, and exits with code 1.
 */
function fault(what: string, e: unknown): void {
  log.alert(`worker process ${process.pid} ${what}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  if (stopping) return; // already leaving: logged only
  stopping = true;
  send({ tresty: 'failing' });
  log.notice(`worker process ${process.pid} stops accepting and exits once its requests are done (TRESTY_ERR_WORKER_FAULT)`);
  void (async () => {
    // Under node:cluster the master closes a socket no worker listens on (new clients would be
    // refused): the only worker keeps accepting until its replacement listens.
    if (clustered) await replacement();
    // The bound counts from when it stops accepting: the wait above is not its requests' time.
    const bound = setTimeout(() => {
      log.alert(`worker process ${process.pid} still has requests after ${FAULT_DRAIN_MS} ms, exiting`);
      exit(1);
    }, FAULT_DRAIN_MS);
    bound.unref();
    await finish();
    exit(1);
  })();
}

function stop(): void {
  stopping = true;
  front?.closeNow();
  log.notice('exiting');
  exit(0);
}

function exit(code: number): void {
  log.flush();
  process.exit(code);
}

process.on('message', (m: unknown) => {
  if (!isTrestyMessage(m)) return;
  const msg = m as MasterToWorker;
  switch (msg.tresty) {
    case 'start': void start(msg); break;
    case 'quit': void quit(); break;
    case 'stop': stop(); break;
    case 'reopen': reopenLogs(); break;
    case 'closed': onClosed?.(); break;
    case 'replaced': onReplaced?.(); break;
  }
});

// Signals sent to the worker itself (a terminal's Ctrl-C or Ctrl-\ reaches the whole group).
process.on('SIGQUIT', () => void quit());
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGUSR1', reopenLogs);
process.on('SIGHUP', () => { /* reload is the master's job */ });
// Without the master no new connection reaches us (it owns the sockets): finish and go.
process.on('disconnect', () => void quit());

send({ tresty: 'hello' });

process.on('uncaughtException', (e) => fault('uncaught exception', e));
process.on('unhandledRejection', (e) => fault('unhandled promise rejection', e));
