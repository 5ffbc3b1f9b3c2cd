// The HTTP front of a worker: the native engine (native/engine, src/http/native) or node:http
// (server.ts), behind one shape, so the worker and the pipeline do not care which serves. Both
// take the master's listen sockets; the node front can also share node:cluster's.
import type { HttpConf, MainConf } from '../config/types.js';
import { TrestyError } from '../errors.js';
import type { ErrorLog } from '../log/index.js';
import type { CertHook } from '../tls/contexts.js';
import { bindName, type ListenFd } from './binds.js';
import { engineUnavailable, loadEngine } from './native-binding.js';
import { NativeFront, type NativeHooks } from './native-front.js';
import { engineTakesTls } from './native-tls.js';
import { HttpFront } from './server.js';
import { TlsFront } from './tls-front.js';
import type { RequestHandler } from './types.js';
import { type Bind, planBinds } from './vhost.js';
import { setServerTokens, software, softwareFor } from './software.js';

export interface Front {
  /** Starts serving on every listen socket of the conf. */
  listen(): Promise<void>;
  addresses(): string[];
  /** Graceful stop: no new connections, in-flight requests finish; resolves when none is left. */
  drain(closed?: () => Promise<void>): Promise<void>;
  /** Fast stop: every connection dropped now. */
  closeNow(): void;
  /** The native engine's NativeFront.watchFd, when this front has the engine. */
  watchFd?: NativeFront['watchFd'];
}

/**
 * The engine of one listen socket: the worker's for plain HTTP. A TLS socket goes to the native
 * engine when it serves plain HTTP and can take it (native-tls.ts: HTTP/1.1, not
 * TRESTY_TLS_ENGINE=node), else to node:tls ('tls'); the worker then
 * runs both fronts side by side, each on its own sockets.
 */
export function engineForBind(bind: Bind, engine: 'native' | 'node'): 'native' | 'node' | 'tls' {
  if (!bind.ssl) return engine;
  return engine === 'native' && engineTakesTls(bind, loadEngine()) ? 'native' : 'tls';
}

export function createFront(
  engine: 'native' | 'node',
  http: HttpConf,
  handle: RequestHandler,
  log: ErrorLog,
  events: Pick<MainConf, 'workerConnections' | 'multiAccept'>,
  fds: readonly ListenFd[],
  hooks: NativeHooks & { certificate?: CertHook | null } = {},
): Front {
  const { workerConnections } = events;
  setServerTokens(http.serverTokens);
  const binds = planBinds(http);
  const nativeBinds = binds.filter((b) => engineForBind(b, engine) === 'native');
  const nodeBinds = binds.filter((b) => engineForBind(b, engine) === 'node');
  const fronts: Front[] = [];
  if (nativeBinds.length > 0) {
    const native = loadEngine();
    if (!native) throw new TrestyError('TRESTY_ERR_ENGINE', `the native HTTP engine cannot be used: ${engineUnavailable()}`);
    native.setSoftware(software(), softwareFor(true));
    fronts.push(new NativeFront(native, http, nativeBinds, handle, log, events, fds, hooks));
  }
  if (nodeBinds.length > 0) fronts.push(new HttpFront(http, handle, log, workerConnections, fds, nodeBinds, hooks.logAnswer?.bind(hooks)));
  const tlsBinds = binds.filter((b) => engineForBind(b, engine) === 'tls');
  if (tlsBinds.length > 0 && engine === 'native' && loadEngine()?.tlsBuilt?.() === false) noTlsNotice(log);
  // Which stack does TLS where (an A/B with TRESTY_TLS_ENGINE=node can check it in the log).
  for (const b of binds.filter((x) => x.ssl)) log.info(`TLS on ${bindName(b)}: ${engineForBind(b, engine) === 'native' ? 'native engine' : 'node:tls'}`);
  if (tlsBinds.length > 0) fronts.push(new TlsFront(http, handle, log, workerConnections, hooks.certificate ?? null, fds, tlsBinds));
  return fronts.length === 1 ? fronts[0]! : new BothFronts(fronts);
}

let noticed = false;
/** Once per process: the engine was built without OpenSSL's headers, so TLS stays on node:tls. */
function noTlsNotice(log: ErrorLog): void {
  if (noticed) return;
  noticed = true;
  log.notice('the native engine was built without OpenSSL\'s headers (libssl-dev): TLS listens run on node:tls');
}

/** Two fronts in one worker, each on its own listen sockets. */
class BothFronts implements Front {
  constructor(private readonly fronts: readonly Front[]) {}
  async listen(): Promise<void> { for (const f of this.fronts) await f.listen(); }
  addresses(): string[] { return this.fronts.flatMap((f) => f.addresses()); }
  async drain(closed?: () => Promise<void>): Promise<void> {
    let once: Promise<void> | undefined;
    const shared = closed ? () => (once ??= closed()) : undefined;
    await Promise.all(this.fronts.map((f) => f.drain(shared)));
  }
  closeNow(): void { for (const f of this.fronts) f.closeNow(); }
  get watchFd(): NativeFront['watchFd'] | undefined {
    const n = this.fronts.find((f): f is NativeFront => f instanceof NativeFront);
    return n ? n.watchFd.bind(n) : undefined;
  }
}
