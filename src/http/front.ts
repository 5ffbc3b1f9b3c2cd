// The HTTP front of a worker: the native engine (native/engine, src/http/native) or node:http
// (server.ts), behind one shape, so the worker and the pipeline do not care which serves. Both
// take the master's listen sockets; the node front can also share node:cluster's.
import type { HttpConf, MainConf } from '../config/types.js';
import { TrestyError } from '../errors.js';
import type { ErrorLog } from '../log/index.js';
import type { CertHook } from '../tls/contexts.js';
import type { ListenFd } from './binds.js';
import { engineUnavailable, loadEngine } from './native-binding.js';
import { NativeFront, type NativeHooks } from './native-front.js';
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
 * The engine of one listen socket. Today every socket takes the worker's engine; a socket the
 * native engine cannot serve (TLS, say) would answer 'node' here, and the worker then runs both
 * fronts side by side, each on its own sockets.
 */
export function engineForBind(bind: Bind, engine: 'native' | 'node'): 'native' | 'node' | 'tls' {
  // TLS runs on Node's TLS stack (measured: bench/README.md, "TLS"), whichever engine serves plain HTTP.
  return bind.ssl ? 'tls' : engine;
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
  if (tlsBinds.length > 0) fronts.push(new TlsFront(http, handle, log, workerConnections, hooks.certificate ?? null, fds, tlsBinds));
  return fronts.length === 1 ? fronts[0]! : new BothFronts(fronts);
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
