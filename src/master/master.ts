// The master process: holds the validated conf, forks and supervises the workers, answers
// signals as nginx's master does (HUP reload, QUIT graceful stop, TERM/INT fast stop, USR1
// reopen logs) and keeps the pid file.
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { loadConf, type LoadedConf } from '../config/index.js';
import type { MainConf } from '../config/types.js';
import { isTrestyError } from '../errors.js';
import { runInitPhase as runInit } from '../phases/index.js';
import { closeLogsExcept, ErrorLog, reopenLogs } from '../log/index.js';
import { removePidFile, writePidFile } from './pidfile.js';
import { WorkerPool } from './pool.js';
import type { MasterEvent } from './protocol.js';

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

function errText(e: unknown): { code: string; message: string } {
  return { code: isTrestyError(e) ? e.code : 'TRESTY_ERR_WORKER_START', message: e instanceof Error ? e.message : String(e) };
}

/** Starts the master; resolves once the workers are ready. Throws when start-up fails. */
export async function runMaster(opts: MasterOptions): Promise<void> {
  let conf = opts.loaded.conf;
  let snapshot = opts.loaded.snapshot;
  const log = new ErrorLog(conf.errorLog, true);
  process.title = `tresty: master process ${process.argv.slice(1).join(' ')}`;

  cluster.setupPrimary({ exec: WORKER_ENTRY, args: [] });
  // Round-robin in the master spreads keep-alive connections evenly over the workers
  // (SCHED_NONE lets one busy worker take most of them); TRESTY_SCHED=none to compare.
  cluster.schedulingPolicy = process.env.TRESTY_SCHED === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR;

  const newPool = (c: MainConf, snap: typeof snapshot): WorkerPool =>
    new WorkerPool({ file: opts.file, prefix: opts.prefix, globals: opts.globals, snapshot: snap }, c.workerProcesses, log, report);

  await runInit(conf);
  writePidFile(conf.pid);
  let pool = newPool(conf, snapshot);
  try {
    await pool.start();
  } catch (e) {
    await pool.stop();
    removePidFile(conf.pid);
    throw e;
  }
  log.notice(`tresty ready, ${conf.workerProcesses} worker processes`);
  report({ tresty: 'ready', pid: process.pid, workers: pool.pids(), addresses: [] });

  const retiring = new Set<WorkerPool>();
  let exiting = false;
  let reloading: Promise<void> | null = null;
  let reloadAgain = false;

  const reload = async (): Promise<void> => {
    log.notice('reconfiguring');
    let next: LoadedConf;
    try {
      next = loadConf({ file: opts.file, prefix: opts.prefix, globals: opts.globals });
      log.configure(next.conf.errorLog);
      await runInit(next.conf);
    } catch (e) {
      log.configure(conf.errorLog);
      const t = errText(e);
      log.emerg(t.message);
      report({ tresty: 'reload-failed', ...t });
      return;
    }
    const fresh = newPool(next.conf, next.snapshot);
    try {
      await fresh.start();
    } catch (e) {
      await fresh.stop();
      log.configure(conf.errorLog);
      const t = errText(e);
      log.emerg(`reload failed, the old worker processes keep serving: ${t.message}`);
      report({ tresty: 'reload-failed', code: 'TRESTY_ERR_RELOAD', message: t.message });
      return;
    }
    const old = pool;
    if (next.conf.pid !== conf.pid) {
      writePidFile(next.conf.pid);
      removePidFile(conf.pid);
    }
    pool = fresh;
    conf = next.conf;
    snapshot = next.snapshot;
    closeLogsExcept(new Set(log.paths()));
    // The new workers already listen on the shared sockets; the old ones finish what they have.
    retiring.add(old);
    void old.quit().then(() => retiring.delete(old));
    report({ tresty: 'reloaded', workers: pool.pids() });
  };

  const requestReload = (): void => {
    if (exiting) return;
    if (reloading) {
      reloadAgain = true; // one more after the current one, with whatever the conf is then
      return;
    }
    reloading = reload().finally(() => {
      reloading = null;
      if (reloadAgain) {
        reloadAgain = false;
        requestReload();
      }
    });
  };

  const shutdown = async (graceful: boolean): Promise<void> => {
    if (exiting) return;
    exiting = true;
    log.notice(graceful ? 'gracefully shutting down' : 'shutting down');
    if (reloading) await reloading;
    const pools = [pool, ...retiring];
    await Promise.all(pools.map((p) => (graceful ? p.quit() : p.stop())));
    removePidFile(conf.pid);
    log.notice('exit');
    report({ tresty: 'exiting' });
    log.flush();
    process.exit(0);
  };

  // A master bug must not leave a pid file naming a dead process; the workers see the IPC
  // channel close and finish on their own.
  process.on('uncaughtException', (e) => {
    log.alert(`master process uncaught exception: ${e.stack ?? e.message}`);
    removePidFile(conf.pid);
    log.flush();
    process.exit(1);
  });

  process.on('SIGHUP', () => {
    log.notice('signal 1 (SIGHUP) received, reconfiguring');
    requestReload();
  });
  process.on('SIGQUIT', () => void shutdown(true));
  process.on('SIGTERM', () => void shutdown(false));
  process.on('SIGINT', () => void shutdown(false));
  process.on('SIGUSR1', () => {
    log.notice('signal 10 (SIGUSR1) received, reopening logs');
    reopenLogs();
    pool.reopen();
    for (const p of retiring) p.reopen();
    report({ tresty: 'reopened' });
  });
}
