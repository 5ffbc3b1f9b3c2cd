// The worker's request pipeline, as the worker process and the master use it:
//   createWorkerPipeline(conf, worker) -> { handle(ex, server), shutdown() }
//   runInitPhase(conf): init_by_js in the master, before the fork
//   testHandlers(conf): compile/load every handler (for `-t`)
// Pipelines are built once here; handle() only walks them.

import type { FfiPluginConf, MainConf, ServerConf } from '../config/types.js';
import { ConfError, isTrestyError } from '../errors.js';
import type { FfiPlugin } from '../ffi/index.js';
import type { HttpExchange, RequestHandler } from '../http/types.js';
import { TimerSet } from '../request/timers.js';
import { ngxOf } from '../api/ngx.js';
import { logReq } from '../request/report.js';
import { Req } from '../request/req.js';
import { parseTarget } from '../request/uri.js';
import type { FfiHooks, WorkerState } from '../request/worker.js';
import type { LoggedAnswer } from '../http/native-front.js';
import { type Bind, planBinds, type VhostGroup } from '../http/vhost.js';
import { engineForBind } from '../http/front.js';
import { checkNativeEngine } from '../http/engine-need.js';
import { confCheck, loadEngine } from '../http/native-binding.js';
import { checkConfCommands } from '../tls/conf-commands.js';
import { originForm } from '../http/request-host.js';
import { CTX } from '../request/context.js';
import { conclude, start } from './run.js';
import { useTemplateEval } from '../request/limit-rate.js';
import { evalParts } from '../api/map.js';
import { getVar } from '../api/vars.js';
import { initPhase } from './init.js';
import { initWorkerPhase } from './init_worker.js';
import { Loader } from './loader.js';
import { openErrorLog } from './logs.js';
import { buildAll } from './pipeline.js';
import { TYPES } from './mime.js';
import { certificateHook } from './ssl_certificate.js';
import type { CertHook } from '../tls/contexts.js';
import { checkCertificates } from '../tls/contexts.js';
import { setOcspResolver } from '../tls/ocsp-fetch.js';
import { stapleTargets } from '../tls/ocsp-plan.js';
import { resolveHost } from '../request/resolver.js';

// limit_rate $var is evaluated in request/ (the output layer), which cannot import api/'s variables.
useTemplateEval((r, parts) => evalParts(r, parts, getVar));

export type { WorkerState } from '../request/worker.js';

/** The worker's state plus what only the phase engine uses: the handler loader. */
interface Worker extends WorkerState {
  readonly loader: Loader;
}

function newWorkerState(conf: MainConf, id: number, count: number, freshImports = false): Worker {
  const timers = new TimerSet();
  const w: Worker = {
    conf, id, count, exiting: false, serial: 0,
    errorLog: openErrorLog(conf),
    loader: new Loader(conf, freshImports),
    pipes: new Map(),
    serverOps: new Map(),
    timers,
    ffi: null,
    run: start,
  };
  timers.w = w;
  timers.ngxOf = ngxOf;
  timers.maxPending = conf.http?.maxPendingTimers ?? timers.maxPending;
  timers.maxRunning = conf.http?.maxRunningTimers ?? timers.maxRunning;
  return w;
}

type FfiModule = typeof import('../ffi/index.js');

/** What a worker process gets: the request handler, the hooks of the native engine, shutdown. */
export interface WorkerPipeline {
  handle: RequestHandler;
  logAnswer(a: LoggedAnswer): void;
  builtinTypes: Readonly<Record<string, string>>;
  /** A graceful stop has begun: ngx.worker.exiting() is true from now on (nginx's ngx_exiting). */
  beginExit(): void;
  shutdown(): Promise<void>;
  /** ssl_certificate_by_js: picks a certificate per handshake (null without the directive). */
  certificate: CertHook | null;
}

/**
 * ngx.load_ffi / ngx.ffi.NAME come from src/ffi. Its plugins named in the conf are loaded at
 * worker start (a failure there stops the worker, as a conf error would); if the module itself
 * cannot load (koffi missing), ngx.load_ffi throws that module's error when called.
 */
async function wireFfi(w: WorkerState, conf: MainConf): Promise<FfiModule | null> {
  let mod: FfiModule;
  try {
    mod = await import('../ffi/index.js');
  } catch (e) {
    const err = e;
    w.ffi = { load: () => { throw err; }, plugins: {} };
    return null;
  }
  mod.setFfiWarn((m) => w.errorLog.log('warn', m)); // a runtime that broke the ABI, logged once
  const plugins: Record<string, FfiPlugin> = {};
  for (const [name, p] of conf.ffiPlugins) {
    // One at a time, so a failure names the ffi_plugin block it comes from.
    const one = { ffiLibraryPath: conf.ffiLibraryPath, ffiPlugins: new Map([[name, p]]) };
    try {
      Object.assign(plugins, mod.loadPluginsFromConf(one));
    } catch (e) {
      throw atPlugin(e, p);
    }
  }
  // ngx.load_ffi searches ffi_library_path first, as ffi_plugin blocks do.
  const { defaultSearchPath } = await import('../ffi/locate.js');
  const hooks: FfiHooks = {
    load: (lib, cfg, opts) => mod.loadFfi(lib, cfg ?? null, {
      ...opts, searchPath: [...conf.ffiLibraryPath, ...(opts?.searchPath ?? defaultSearchPath())],
    }),
    plugins,
  };
  w.ffi = hooks;
  return mod;
}

export async function createWorkerPipeline(
  conf: MainConf,
  worker: { id: number; count: number },
): Promise<WorkerPipeline> {
  const w = newWorkerState(conf, worker.id, worker.count);
  if (worker.id === 0) warnStapling(w, conf);
  setOcspResolver(resolveHost); // ssl_stapling's responder names go through the conf's resolver
  const ffi = await wireFfi(w, conf);
  // init_by_js again here: the master's run cannot be inherited (no fork of memory in Node).
  await initPhase.run(w, w.loader, conf);
  await buildAll(conf, { conf, loader: w.loader, w });
  const certificate = await certificateHook(conf, w.loader, w);
  await initWorkerPhase.run(w, w.loader, conf);

  const handle = (ex: HttpExchange, server: ServerConf, dflt = server): void => {
    const r = new Req(w, ex, server, ex.method, originForm(ex.url), null);
    ex.watchReset?.((line) => logReq(r, 'info', line));
    // nginx parses the URI with the address's default server's merge_slashes, before Host picks one.
    const t = parseTarget(ex.url, dflt.defaults.std.noMergeSlashes !== true);
    try {
      if (t === null) {
        r.loc = server.defaults;
        r.pipe = w.pipes.get(r.loc)!;
        return conclude(r, 400);
      }
      r.uri = t.uri;
      r.args = t.args;
      const refused = ex.tlsRefusal?.(server) ?? null;
      if (refused !== null) {
        // ssl_verify_client against the Host's server, checked where nginx does: before its rewrites
        r.loc = server.defaults;
        r.pipe = w.pipes.get(r.loc)!;
        logReq(r, 'info', `${refused.reason} while reading client request headers`);
        return conclude(r, refused.status);
      }
      start(r);
    } catch (e) {
      // Only a bug of the pipeline itself gets here: handler errors are caught per step.
      logReq(r, 'alert', `request failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      if (!ex.headersSent) ex.writeHead(500, [['Content-Length', '0']]);
      ex.end();
    }
  };

  /** An answer the native engine wrote itself: the log phase (access log lines) runs for it. */
  const logAnswer = (a: LoggedAnswer): void => {
    const pipe = w.pipes.get(a.loc);
    if (!pipe?.log) return;
    const r = new Req(w, a.ex, a.server, a.ex.method, originForm(a.ex.url), null);
    const t = parseTarget(a.ex.url);
    r.uri = t?.uri ?? a.ex.url;
    r.args = t?.args ?? '';
    r.loc = a.loc;
    r.pipe = pipe;
    r.status = a.status;
    r.completed = a.cut !== true;
    (r as { startMs: number }).startMs = Date.now() - a.msec;
    a.ex.bytesSent = a.sent;
    r.phase = CTX.log;
    const p = pipe.log(r);
    if (p !== undefined) p.catch((e: unknown) => logReq(r, 'alert', `log phase failed: ${String(e)}`));
  };

  return {
    handle,
    logAnswer,
    builtinTypes: TYPES,
    certificate,
    beginExit() {
      w.exiting = true;
    },
    async shutdown() {
      w.exiting = true;
      await w.timers.shutdown();
      if (ffi) await ffi.unloadAll();
    },
  };
}

/** init_by_js in the master, before the fork; an error stops start-up. */
export async function runInitPhase(conf: MainConf): Promise<void> {
  const w = newWorkerState(conf, -1, conf.workerProcesses, true);
  await initPhase.run(w, w.loader, conf);
}

/** A plugin load error, as a conf error at its `ffi_plugin` block (the code is kept). */
function atPlugin(e: unknown, p: FfiPluginConf): unknown {
  if (!isTrestyError(e) || e instanceof ConfError) return e;
  return new ConfError(e.code, e.message, p.ref.file, p.ref.line);
}

/**
 * `tresty -t`: every ffi_plugin library must be found (as nginx -t opens load_module files), without
 * loading it: libffi_init starts threads and may have side effects a test must not cause.
 */
async function testPlugins(conf: MainConf): Promise<void> {
  if (conf.ffiPlugins.size === 0) return;
  const { findLibrary, defaultSearchPath } = await import('../ffi/locate.js');
  for (const p of conf.ffiPlugins.values()) {
    try {
      findLibrary(p.library, [...conf.ffiLibraryPath, ...defaultSearchPath()]);
    } catch (e) {
      throw atPlugin(e, p);
    }
  }
}

/** Loads and compiles every handler of the conf (for `tresty -t`); throws the first ConfError. */
export async function testHandlers(conf: MainConf): Promise<void> {
  checkNativeEngine(conf.http);
  await testPlugins(conf);
  const w = newWorkerState(conf, -1, conf.workerProcesses, true);
  if (conf.init) await w.loader.load(conf.init);
  if (conf.initWorker) await w.loader.load(conf.initWorker);
  await buildAll(conf, { conf, loader: w.loader, w });
  await certificateHook(conf, w.loader, w);
  const tlsBinds = conf.http ? planBinds(conf.http).filter((b) => b.ssl) : [];
  const groups = (b: Bind): VhostGroup[] => [...(b.any ? [b.any] : []), ...b.byAddress.values()];
  const tlsDefaults = new Set(tlsBinds.flatMap((b) => groups(b).map((g) => g.defaultServer)));
  // ssl_conf_command: nginx's check on every server; node:tls's refusals where it will serve
  for (const s of conf.http?.servers ?? []) checkConfCommands(s.ssl.confCommands, false, confCheck());
  const engine = conf.http?.engine ?? (process.env.TRESTY_HTTP_ENGINE === 'node' ? 'node' : 'native');
  const onNode = new Set(tlsBinds.filter((b) => engineForBind(b, loadEngine() ? engine : 'node') !== 'native')
    .flatMap((b) => groups(b).flatMap((g) => g.servers)));
  checkCertificates(conf.http?.servers ?? [], tlsDefaults, onNode);
}

/** ssl_stapling on: nginx's `[warn] "ssl_stapling" ignored, ...` for each certificate it cannot
 *  staple (no issuer, no responder URL), once (the first worker), as nginx says it at start. */
function warnStapling(w: Worker, conf: MainConf): void {
  for (const line of stapleTargets(conf.http?.servers ?? []).warnings) w.errorLog.log('warn', line);
}
