// The master process: holds the validated conf, forks and supervises the workers, answers
// signals as nginx's master does (HUP reload, QUIT graceful stop, TERM/INT fast stop, USR1
// reopen logs) and keeps the pid file.
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { loadConf, type LoadedConf } from '../config/index.js';
import { handOverFiles } from './privileges.js';
import type { MainConf } from '../config/types.js';
import { isTrestyError, TrestyError } from '../errors.js';
import type { ListenFd } from '../http/binds.js';
import { checkNativeEngine } from '../http/engine-need.js';
import { engineUnavailable, loadEngine } from '../http/native-binding.js';
import { closeLogsExcept, ErrorLog, reopenLogs } from '../log/index.js';
import { runInitPhase } from '../phases/index.js';
import { ZoneKeeper, type ZonePlan, type ZoneSpec } from '../shared/index.js';
import { createStatusPage } from '../status/counters.js';
import { removePidFile, writePidFile } from './pidfile.js';
import { Listeners } from './listeners.js';
import { WorkerPool } from './pool.js';
import type { MasterEvent } from './protocol.js';
import { childFds, forkWithCluster, forkWithSockets } from './spawn.js';
import { workerExecArgv } from './worker-flags.js';

export interface MasterOptions {
  readonly file: string;
  readonly prefix: string;
  readonly globals?: string;
  /** The conf the CLI already loaded and validated. */
  readonly loaded: LoadedConf;
}

const WORKER_ENTRY = fileURLToPath(new URL('../../workers/http-worker.js', import.meta.url));

/** Reports to the parent that started us with an IPC channel (tests, the daemon launcher). */
function report(e: MasterEvent): void {
  if (process.connected) process.send!(e, undefined, {}, () => { /* parent gone: nothing to tell */ });
}

/**
 * The level of a failure that stops a start or a reload: init_by_js's throw (or a block that
 * does not compile) is nginx + lua's `[error] init_by_lua error: ...`; a conf or system failure
 * its `[emerg]`.
 */
export function startFailureLevel(e: unknown): 'error' | 'emerg' {
  return isTrestyError(e) && e.code === 'TRESTY_ERR_HANDLER' ? 'error' : 'emerg';
}

function errText(e: unknown): { code: string; message: string } {
  return { code: isTrestyError(e) ? e.code : 'TRESTY_ERR_WORKER_START', message: e instanceof Error ? e.message : String(e) };
}

class Master {
  private conf: MainConf;
  private snapshot: LoadedConf['snapshot'];
  private readonly log: ErrorLog;
  private pool: WorkerPool | null = null;
  private readonly retiring = new Set<WorkerPool>();
  /** Settles when start-up is over, however it ended (a stop signal may come during it). */
  private startup: Promise<unknown> = Promise.resolve();
  private started = false;
  private exiting = false;
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;
  /** With the engine's addon, the master owns the listen sockets; without it node:cluster does. */
  private readonly native = loadEngine();
  private readonly listeners = this.native ? new Listeners(this.native) : null;
  private readonly poolFds = new WeakMap<WorkerPool, readonly ListenFd[]>();
  private engine: 'native' | 'node' = 'node';
  /** js_shared_dict segments: made before the workers, kept across reloads, removed at exit. */
  private readonly zones = new ZoneKeeper();
  private shm: readonly ZoneSpec[] = [];
  /** stub_status's counters: made once, so they span reloads as nginx's do. */
  private status: string | undefined;

  constructor(private readonly opts: MasterOptions) {
    this.conf = opts.loaded.conf;
    this.snapshot = opts.loaded.snapshot;
    // Synchronous lines: few of them, and a tool that sees an event may read the log at once.
    this.log = new ErrorLog(this.conf.errorLog, true);
    for (const w of this.conf.warnings) this.log.warn(w);
  }

  /** http_engine, or native when its addon was built; `http_engine native` without it is an error. */
  private engineOf(conf: MainConf): 'native' | 'node' {
    // TRESTY_HTTP_ENGINE changes the default (the tests run a part of the suite on node:http with it).
    const env = process.env.TRESTY_HTTP_ENGINE;
    const want = conf.http?.engine ?? (env === 'node' || env === 'native' ? env : undefined);
    if (want === 'node') return 'node';
    if (this.native) return 'native';
    checkNativeEngine(conf.http);
    return 'node';
  }

  private newPool(conf: MainConf, snapshot: LoadedConf['snapshot'], shm = this.shm): WorkerPool {
    const { file, prefix, globals } = this.opts;
    const engine = this.engineOf(conf);
    const fds = this.listeners?.forConf(conf.http) ?? null;
    const fork = fds ? () => forkWithSockets(WORKER_ENTRY, fds) : forkWithCluster;
    const listenFds = fds ? childFds(fds) : undefined;
    const pool = new WorkerPool({ file, prefix, globals, snapshot, engine, listenFds, shm, status: this.status }, conf.workerProcesses, this.log, report, fork);
    if (fds) this.poolFds.set(pool, fds);
    this.engine = engine;
    return pool;
  }

  /** Closes the listen sockets that neither the serving workers nor retiring ones use. */
  private closeUnusedSockets(): void {
    const inUse = [this.pool, ...this.retiring].flatMap((p) => (p ? [this.poolFds.get(p) ?? []] : []));
    this.listeners?.keepOnly(inUse);
  }

  /** Says which engine serves: in the error log, and on stderr when it is the fallback. */
  private announceEngine(): void {
    if (this.engine === 'native') {
      this.log.notice('http engine: native');
    } else if (!this.native && this.conf.http) {
      const why = `the native HTTP engine is not available (${engineUnavailable()}); serving with node:http`;
      this.log.warn(why);
      if (!process.env.TRESTY_DAEMON_CHILD) process.stderr.write(`tresty: [warn] ${why}\n`);
    } else {
      this.log.notice('http engine: node:http');
    }
  }

  async start(): Promise<void> {
    process.title = `tresty: master process ${process.argv.slice(1).join(' ')}`;
    // Handlers first, as nginx does: a signal sent the moment we report ready must not find
    // the default action (which would kill the master).
    this.installSignals();
    // Round-robin in the master spreads keep-alive connections evenly over the workers;
    // TRESTY_SCHED=none lets the kernel pick (measured: docs/cli.md). With worker_watchdog_timeout
    // the workers accept themselves (SCHED_NONE), so that a stuck one is handed no connection.
    // Set before setupPrimary, which freezes it.
    const none = process.env.TRESTY_SCHED === 'none' || this.conf.workerWatchdogTimeout > 0;
    cluster.schedulingPolicy = none ? cluster.SCHED_NONE : cluster.SCHED_RR;
    cluster.setupPrimary({ exec: WORKER_ENTRY, args: [], execArgv: workerExecArgv() });

    const run = async (): Promise<void> => {
      this.status = createStatusPage();
      const zones = this.zones.prepare(this.conf.sharedDicts.values());
      zones.commit();
      this.shm = zones.specs;
      await runInitPhase(this.conf).catch((e: unknown) => {
        // nginx writes it to its error log too (the command line's stderr copy is main.ts's).
        if (!this.log.paths().includes('stderr')) this.log.log(startFailureLevel(e), errText(e).message);
        throw e;
      });
      handOverFiles(this.conf, this.log);
      // Sockets first (nginx opens them before the pid file): a port in use leaves no pid file.
      this.pool = this.newPool(this.conf, this.snapshot);
      writePidFile(this.conf.pid);
      try {
        await this.pool.start();
      } catch (e) {
        await this.pool.stop();
        removePidFile(this.conf.pid);
        throw e;
      }
    };
    const p = run();
    this.startup = p.catch(() => undefined);
    await p;
    this.started = true;
    this.announceEngine();
    this.log.notice(`tresty ready, ${this.conf.workerProcesses} worker processes`);
    report({ tresty: 'ready', pid: process.pid, workers: this.pool!.pids(), addresses: this.pool!.addresses, engine: this.engine });
    if (this.reloadAgain) {
      this.reloadAgain = false;
      this.requestReload();
    }
  }

  private installSignals(): void {
    process.on('SIGHUP', () => {
      this.log.notice('signal 1 (SIGHUP) received, reconfiguring');
      this.requestReload();
    });
    process.on('SIGQUIT', () => void this.shutdown(true));
    process.on('SIGTERM', () => void this.shutdown(false));
    process.on('SIGINT', () => void this.shutdown(false));
    process.on('SIGUSR1', () => {
      this.log.notice('signal 10 (SIGUSR1) received, reopening logs');
      handOverFiles(this.conf, this.log);
      reopenLogs();
      this.pool?.reopen();
      for (const p of this.retiring) p.reopen();
      report({ tresty: 'reopened' });
    });
    // A master bug must not leave a pid file naming a dead process; the workers see the IPC
    // channel close and finish on their own.
    process.on('uncaughtException', (e) => {
      this.log.alert(`master process uncaught exception: ${e.stack ?? e.message}`);
      removePidFile(this.conf.pid);
      this.log.flush();
      process.exit(1);
    });
  }

  private requestReload(): void {
    if (this.exiting) return;
    if (!this.started || this.reloading) {
      this.reloadAgain = true; // once start-up or the current reload is over, with the conf as it is then
      return;
    }
    this.reloading = this.reload().finally(() => {
      this.reloading = null;
      if (this.reloadAgain) {
        this.reloadAgain = false;
        this.requestReload();
      }
    });
  }

  private async reload(): Promise<void> {
    const { log } = this;
    log.notice('reconfiguring');
    let next: LoadedConf;
    let zones: ZonePlan | undefined;
    try {
      next = loadConf({ file: this.opts.file, prefix: this.opts.prefix, globals: this.opts.globals });
      log.configure(next.conf.errorLog);
      for (const w of next.conf.warnings) log.warn(w);
      zones = this.zones.prepare(next.conf.sharedDicts.values());
      await runInitPhase(next.conf);
      handOverFiles(next.conf, log);
    } catch (e) {
      zones?.abort();
      log.configure(this.conf.errorLog);
      const t = errText(e);
      log.log(startFailureLevel(e), t.message);
      report({ tresty: 'reload-failed', ...t });
      return;
    }
    let fresh: WorkerPool | undefined;
    try {
      fresh = this.newPool(next.conf, next.snapshot, zones.specs);
      await fresh.start();
    } catch (e) {
      // A pool that was made but did not start is stopped, and the sockets only it opened closed.
      if (fresh) {
        await fresh.stop();
        this.closeUnusedSockets();
      }
      zones.abort();
      log.configure(this.conf.errorLog);
      const t = errText(e);
      log.emerg(`reload failed, the old worker processes keep serving: ${t.message}`);
      report({ tresty: 'reload-failed', code: 'TRESTY_ERR_RELOAD', message: t.message });
      return;
    }
    const old = this.pool!;
    if (next.conf.pid !== this.conf.pid) {
      writePidFile(next.conf.pid);
      removePidFile(this.conf.pid);
    }
    zones.commit();
    this.shm = zones.specs;
    this.pool = fresh;
    this.conf = next.conf;
    this.snapshot = next.snapshot;
    closeLogsExcept(new Set(log.paths()));
    // The new workers already listen on the shared sockets; the old ones finish what they have.
    this.retiring.add(old);
    void old.quit().then(() => {
      this.retiring.delete(old);
      this.closeUnusedSockets();
    });
    report({ tresty: 'reloaded', workers: fresh.pids() });
  }

  private async shutdown(graceful: boolean): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    this.log.notice(graceful ? 'gracefully shutting down' : 'shutting down');
    await this.startup;
    if (this.reloading) await this.reloading;
    const pools = [...(this.pool ? [this.pool] : []), ...this.retiring];
    await Promise.all(pools.map((p) => (graceful ? p.quit() : p.stop())));
    removePidFile(this.conf.pid);
    this.log.notice('exit');
    report({ tresty: 'exiting' });
    this.log.flush();
    process.exit(0);
  }
}

/** Starts the master; resolves once the workers are ready. Throws when start-up fails. */
export async function runMaster(opts: MasterOptions): Promise<void> {
  await new Master(opts).start();
}
