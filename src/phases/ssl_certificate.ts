// ssl_certificate_by_js_*: runs for a TLS handshake, before any request exists (context
// `ssl_certificate_by_js*`), with the SNI name; it may pick the certificate through tresty/ssl
// and may await (a certificate store). A throw, ngx.exit(ngx.ERROR) or clear_certs() without a
// new pair fails the handshake, as in OpenResty.

import type { MainConf, ServerConf } from '../config/types.js';
import { ngxOf } from '../api/ngx.js';
import { CTX } from '../request/context.js';
import { INTERRUPT, isPromise } from '../request/interrupt.js';
import { handlerFailure } from '../request/failure.js';
import { Call } from '../request/call.js';
import { nextConnection } from '../log/index.js';
import { logRun } from '../request/report.js';
import type { WorkerState } from '../request/worker.js';
import { certStates, type CertState } from '../tls/cert-state.js';
import type { CertAnswer, CertHook } from '../tls/contexts.js';
import { call } from './invoke.js';
import type { Loader, LoadedHandler } from './loader.js';

/** Loads every server's ssl_certificate_by_js; the hook the TLS front calls, or null when none. */
export async function certificateHook(conf: MainConf, loader: Loader, w: WorkerState): Promise<CertHook | null> {
  const handlers = new Map<ServerConf, LoadedHandler>();
  for (const s of conf.http?.servers ?? []) {
    if (s.ssl.certificateHandler !== null) handlers.set(s, await loader.load(s.ssl.certificateHandler));
  }
  if (handlers.size === 0) return null;
  return (server, name, statusRequest, peer = '') => {
    const h = handlers.get(server);
    return h === undefined ? Promise.resolve({ pair: null, ocsp: null }) : run(w, h, name, statusRequest, peer);
  };
}

async function run(w: WorkerState, h: LoadedHandler, serverName: string, statusRequest: boolean, peer: string): Promise<CertAnswer> {
  const c = new Call(CTX.ssl_certificate, w, null, h);
  // nginx runs the handler on a fake connection, numbered with the real ones (the handshake's is another).
  c.origin = { connection: nextConnection(), tail: `, context: ssl_certificate_by_js*${peer}`, peer };
  const state: CertState = { serverName, cert: null, key: null, cleared: false, statusRequest, ocsp: null };
  const api = ngxOf(c);
  certStates.set(api, state);
  try {
    const v = call(c, h);
    if (isPromise(v)) await v;
  } catch (e) {
    if (e !== INTERRUPT) {
      // nginx's `*N ..., context: ssl_certificate_by_lua*, client: A, server: LISTEN`.
      logRun(c, 'error', handlerFailure(h, e));
      throw new Error('ssl_certificate_by_js failed');
    }
  } finally {
    c.end();
    certStates.delete(api);
  }
  if (state.cert !== null && state.key !== null) return { pair: { cert: state.cert, key: state.key }, ocsp: state.ocsp };
  if (state.cleared) throw new Error('ssl_certificate_by_js cleared the certificates and set none');
  return { pair: null, ocsp: state.ocsp };
}
