// TLS listens on the native engine (native/engine/tls.c): which ones it takes, and their
// contexts. A listen with http2, or a server on it with ssl_certificate_by_js, stays on node:tls
// (tls-front.ts); TRESTY_TLS_ENGINE=node keeps every TLS listen there.
import type { HttpConf, ServerConf } from '../config/types.js';
import { ConfError } from '../errors.js';
import { engineTls } from '../tls/contexts.js';
import type { EngineBinding } from './native-binding.js';
import { type Bind, firstGroup, selectServer } from './vhost.js';

/** tlsSni's answer for a server with ssl_reject_handshake on (tls.h TE_TLS_REJECT). */
const REJECT = -2;

/** The servers of a bind, every group's. */
function serversOf(bind: Bind): ServerConf[] {
  const all = new Set<ServerConf>(bind.any?.servers ?? []);
  for (const g of bind.byAddress.values()) for (const s of g.servers) all.add(s);
  return [...all];
}

/** Whether a log format (or a map one may read) names an $ssl_* variable: then the engine's LOG
 *  records carry the session, as the connection may be gone when the line is written. */
function logsReadTls(conf: HttpConf): boolean {
  const text = JSON.stringify([[...conf.logFormats.values()], [...conf.maps.values()].map((m) => m.source)]);
  return text.includes('ssl_');
}

/** Whether the engine may serve this TLS bind (the addon has TLS; no http2 or certificate handler). */
export function engineTakesTls(bind: Bind, native: EngineBinding | null): boolean {
  if (process.env.TRESTY_TLS_ENGINE === 'node' || !native?.tlsBuilt?.()) return false;
  return !bind.http2 && serversOf(bind).every((s) => s.ssl.certificateHandler === null);
}

/**
 * Gives the engine a context per server on the TLS binds, marks those listeners TLS and lets it
 * ask for the server of an SNI name (chosen as for Host, in the group of the connection's address).
 */
export function setupEngineTls(native: EngineBinding, conf: HttpConf, binds: readonly Bind[], index: ReadonlyMap<ServerConf, number>): void {
  const made = new Set<ServerConf>();
  binds.forEach((bind, i) => {
    if (!bind.ssl) return;
    for (const s of serversOf(bind)) {
      // a server that rejects handshakes gets a context without certificates (nginx's too)
      if (made.has(s) || (s.ssl.certificates.length === 0 && !s.ssl.rejectHandshake)) continue;
      made.add(s);
      const t = engineTls(s.ssl);
      try {
        native.tlsContext!(index.get(s)!, t.certs, t.keys, t.options, s.ssl.ciphers, s.ssl.ecdhCurve, t.dh, t.ticketKeys, t.verify, t.ocsp);
      } catch (e) {
        const msg = (e as Error).message;
        // a CA / CRL file without what it should hold names its own line
        const ref = (msg.startsWith('cannot use the ssl_') ? s.ssl.verifyRef : null) ?? s.ssl.ref ?? s.ref;
        if (ref !== s.ssl.ref) throw new ConfError('TRESTY_ERR_CONF_VALUE', msg, ref.file, ref.line);
        throw new ConfError('TRESTY_ERR_CONF_VALUE', `cannot use the certificates: ${(e as Error).message}`, ref.file, ref.line);
      }
    }
    native.tlsListener!(i, index.get(firstGroup(bind).defaultServer)!);
  });
  native.tlsFlags?.(logsReadTls(conf), conf.servers.some((sv) => [495, 496, 497].some((c) => sv.defaults.errorPages.has(c))));
  native.tlsSni!((i, dname, name) => {
    const bind = binds[i];
    if (!bind) return -1;
    const dflt = dname > 0 ? conf.servers[dname - 1] : undefined;
    const group = (dflt && [...bind.byAddress.values()].find((g) => g.defaultServer === dflt)) || firstGroup(bind);
    const s = selectServer(group, name);
    return s.ssl.rejectHandshake ? REJECT : index.get(s) ?? -1;
  });
}
