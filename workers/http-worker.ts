// The HTTP worker process (forked by the master through node:cluster): resolves the conf the
// master sent, builds the request pipeline, listens on the shared sockets, reports ready,
// and stops gracefully (QUIT) or at once (TERM/INT) when told to.
import { loadConf } from '../src/config/index.js';
import { isTrestyError } from '../src/errors.js';
import { HttpFront } from '../src/http/server.js';
import { hasTls, TlsFront } from '../src/http/tls-front.js';
import type { RequestHandler } from '../src/http/types.js';
import { ErrorLog, reopenLogs } from '../src/log/index.js';
import { isTrestyMessage, type MasterToWorker, type WorkerStart, type WorkerToMaster } from '../src/master/protocol.js';
import { createWorkerPipeline } from '../src/phases/index.js';

interface Pipeline { handle: RequestHandler; shutdown(): Promise<void>; certificate: import('../src/tls/contexts.js').CertHook | null }

process.title = 'tresty: worker process';
const log = new ErrorLog();
let front: HttpFront | null = null;
let tlsFront: TlsFront | null = null;
let pipeline: Pipeline | null = null;
let stopping = false;

function send(m: WorkerToMaster): void {
  if (process.connected) process.send!(m);
}

async function start(msg: WorkerStart): Promise<void> {
  try {
    const { conf } = loadConf({ file: msg.file, prefix: msg.prefix, globals: msg.globals, snapshot: msg.snapshot });
    log.configure(conf.errorLog);
    pipeline = await createWorkerPipeline(conf, { id: msg.slot, count: msg.count });
    if (stopping) return;
    if (conf.http) {
      front = new HttpFront(conf.http, pipeline.handle, log, conf.workerConnections);
      if (hasTls(conf.http)) tlsFront = new TlsFront(conf.http, pipeline.handle, log, conf.workerConnections, pipeline.certificate);
      await Promise.all([front.listen(), tlsFront?.listen()]);
    }
    send({ tresty: 'ready', addresses: [...front?.addresses() ?? [], ...tlsFront?.addresses() ?? []] });
  } catch (e) {
    const code = isTrestyError(e) ? e.code : 'TRESTY_ERR_WORKER_START';
    const message = e instanceof Error ? e.message : String(e);
    log.emerg(message);
    // Exit only once the master has the reason: a message still queued would die with us.
    if (!process.connected) exit(2);
    process.send!({ tresty: 'fatal', code, message } satisfies WorkerToMaster, undefined, {}, () => exit(2));
  }
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

async function quit(): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.notice('gracefully shutting down');
  try {
    await Promise.all([front?.drain(masterStoppedHandingOff), tlsFront?.drain()]);
    await pipeline?.shutdown();
  } catch (e) {
    log.error(`shutdown: ${(e as Error).message}`);
  }
  log.notice('exiting');
  exit(0);
}

function stop(): void {
  stopping = true;
  front?.closeNow();
  tlsFront?.closeNow();
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

process.on('uncaughtException', (e) => {
  log.alert(`worker process ${process.pid} uncaught exception: ${e.stack ?? e.message}`);
  exit(1);
});
process.on('unhandledRejection', (e) => {
  log.error(`unhandled promise rejection: ${(e as Error)?.stack ?? String(e)}`);
});
