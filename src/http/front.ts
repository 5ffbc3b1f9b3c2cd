// The HTTP front of a worker: the native engine (native/engine, src/http/native) or node:http
// (server.ts), behind one shape, so the worker and the pipeline do not care which serves. Both
// take the master's listen sockets; the node front can also share node:cluster's.
import type { HttpConf } from '../config/types.js';
import { TrestyError } from '../errors.js';
import type { ErrorLog } from '../log/index.js';
import type { ListenFd } from './binds.js';
import { engineUnavailable, loadEngine } from './native-binding.js';
import { NativeFront, type NativeHooks } from './native-front.js';
import { HttpFront } from './server.js';
import type { RequestHandler } from './types.js';
import { planBinds } from './vhost.js';

export interface Front {
  /** Starts serving on every listen socket of the conf. */
  listen(): Promise<void>;
  addresses(): string[];
  /** Graceful stop: no new connections, in-flight requests finish; resolves when none is left. */
  drain(closed?: () => Promise<void>): Promise<void>;
  /** Fast stop: every connection dropped now. */
  closeNow(): void;
}

export function createFront(
  engine: 'native' | 'node',
  http: HttpConf,
  handle: RequestHandler,
  log: ErrorLog,
  workerConnections: number,
  fds: readonly ListenFd[],
  hooks: NativeHooks = {},
): Front {
  if (engine === 'node') return new HttpFront(http, handle, log, workerConnections, fds);
  const native = loadEngine();
  if (!native) throw new TrestyError('TRESTY_ERR_ENGINE', `the native HTTP engine cannot be used: ${engineUnavailable()}`);
  return new NativeFront(native, http, planBinds(http), handle, log, workerConnections, fds, hooks);
}
