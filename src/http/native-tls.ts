// TLS listens on the native engine (native/engine/tls.c): which ones it takes, and their
// contexts. A listen with http2 stays on node:tls (tls-front.ts); TRESTY_TLS_ENGINE=node keeps
// every TLS listen there. ssl_certificate_by_js runs here too (native/engine/tls_cert.c): the
// engine suspends the handshake and asks; the handler's choice goes back to it.
import type { HttpConf, ServerConf } from '../config/types.js';
import { ConfError } from '../errors.js';
import { checkConfCommands } from '../tls/conf-commands.js';
import { type CertAnswer, type CertHook, engineTls } from '../tls/contexts.js';
import { type ErrorLog, peerContext } from '../log/index.js';
import { bindName } from './binds.js';
import { stapleTargets, type StapleTarget } from '../tls/ocsp-plan.js';
import type { EngineBinding } from './native-binding.js';
import { engineStapling } from './native-ocsp.js';
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

/** Whether the engine may serve this TLS bind (the addon has TLS, and ssl_certificate_by_js
 *  when a server there has one; no http2). */
export function engineTakesTls(bind: Bind, native: EngineBinding | null): boolean {
  if (process.env.TRESTY_TLS_ENGINE === 'node' || !native?.tlsBuilt?.()) return false;
  if (!native.tlsCertHook && serversOf(bind).some((s) => s.ssl.certificateHandler !== null)) return false;
  return !bind.http2;
}

const pem = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

/**
 * Runs ssl_certificate_by_js for the handshakes the engine suspends. The engine asks in the
 * middle of its pass, inside OpenSSL: the handlers start from an immediate (their awaits then
 * run as any callback's), and each answer goes back by connection id (a handshake gone meanwhile
 * just drops it). A failure's reason is the log line's, as on node:tls.
 */
function runCertificates(native: EngineBinding, servers: readonly ServerConf[], binds: readonly Bind[], hook: CertHook): void {
  // nginx's `server:` names the listening socket (`0.0.0.0:8443` for a `listen 8443`): the TLS
  // bind of the local port, its own address before a wildcard one.
  const listenOf = (addr: string, port: number): string => {
    const tlsBinds = binds.filter((b) => b.ssl && b.port === port);
    const b = tlsBinds.find((x) => x.host === addr) ?? tlsBinds.find((x) => x.host === '');
    return bindName(b ?? { host: addr, port });
  };
  let asked: Array<[number, number, string, boolean]> = [];
  const answer = (id: number, { pair: c, ocsp }: CertAnswer): void => { native.tlsCertDone!(id, c && pem(c.cert), c && pem(c.key), null, ocsp); };
  const start = (): void => {
    const batch = asked;
    asked = [];
    for (const [id, server, name, status] of batch) {
      const s = servers[server];
      if (s === undefined) { native.tlsCertDone!(id, null, null, 'no such server'); continue; }
      // nginx's `, client: A, server: LISTEN`.
      const local = native.localAddress(id);
      const peer = peerContext(native.peerAddress?.(id) ?? undefined, local !== null ? listenOf(local[0], local[1]) : undefined);
      hook(s, name, status, peer).then((c) => answer(id, c), (e: unknown) => { native.tlsCertDone!(id, null, null, (e as Error).message); });
    }
  };
  native.tlsCertHook!((id, server, name, status) => {
    if (asked.length === 0) setImmediate(start);
    asked.push([id, server, name, status === true]);
  });
}

/**
 * Gives the engine a context per server on the TLS binds, marks those listeners TLS and lets it
 * ask for the server of an SNI name (chosen as for Host, in the group of the connection's address).
 */
export function setupEngineTls(native: EngineBinding, conf: HttpConf, binds: readonly Bind[], index: ReadonlyMap<ServerConf, number>,
  certHook: CertHook | null = null, log: ErrorLog | null = null): void {
  const made = new Set<ServerConf>();
  // ssl_stapling without a file: the engine asks for fetches (the start's warnings are phases/'s)
  const staples = new Map<number, StapleTarget[]>();
  if (native.tlsOcspHook && log !== null) {
    for (const t of stapleTargets(conf.servers).targets) {
      const i = index.get(t.server);
      if (i !== undefined) staples.set(i, [...(staples.get(i) ?? []), t]);
    }
  }
  const byIndex: ServerConf[] = [];
  for (const [s, i] of index) byIndex[i] = s;
  if (certHook !== null && native.tlsCertHook) runCertificates(native, byIndex, binds, certHook);
  binds.forEach((bind, i) => {
    if (!bind.ssl) return;
    for (const s of serversOf(bind)) {
      // a server that rejects handshakes gets a context without certificates (nginx's too)
      const byJs = certHook !== null && s.ssl.certificateHandler !== null;
      if (made.has(s) || (s.ssl.certificates.length === 0 && !s.ssl.rejectHandshake && !byJs)) continue;
      made.add(s);
      const t = engineTls(s.ssl);
      // ssl_conf_command: nginx's error names the command's line (then OpenSSL takes them all below)
      const conf = s.ssl.confCommands;
      if (native.tlsConfCheck) checkConfCommands(conf, false, (client, flat) => native.tlsConfCheck!(client, flat));
      try {
        native.tlsContext!(index.get(s)!, t.certs, t.keys, [...t.options, byJs ? 1 : 0, staples.has(index.get(s)!) ? 1 : 0], s.ssl.ciphers, s.ssl.ecdhCurve, t.dh, t.ticketKeys, t.verify, t.ocsp,
          conf.flatMap((c) => [c.name, c.value]));
      } catch (e) {
        const msg = (e as Error).message;
        if (msg.startsWith('SSL_CONF_') && conf.length > 0) throw new ConfError('TRESTY_ERR_CONF_VALUE', msg, conf[0]!.ref.file, conf[0]!.ref.line);
        // a CA / CRL file without what it should hold names its own line
        const ref = (msg.startsWith('cannot use the ssl_') ? s.ssl.verifyRef : null) ?? s.ssl.ref ?? s.ref;
        if (ref !== s.ssl.ref) throw new ConfError('TRESTY_ERR_CONF_VALUE', msg, ref.file, ref.line);
        throw new ConfError('TRESTY_ERR_CONF_VALUE', `cannot use the certificates: ${(e as Error).message}`, ref.file, ref.line);
      }
    }
    native.tlsListener!(i, index.get(firstGroup(bind).defaultServer)!);
  });
  if (log !== null) engineStapling(native, staples, log);
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
