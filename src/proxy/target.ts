// Where a try goes: a URL built per request (proxy_pass with variables) resolved to an upstream
// block or a one-off peer, and the TLS options of https:// upstreams (proxy_ssl_*).

import fs from 'node:fs';
import tls from 'node:tls';
import type { ProxyPass, ProxySslConf } from '../config/types.js';
import { ConfError } from '../errors.js';
import { confCheck } from '../http/native-binding.js';
import { checkConfCommands, nodeConfOptions } from '../tls/conf-commands.js';
import type { Target } from './conn.js';
import type { Peer } from './peers.js';
import { type UpstreamRt, Upstreams } from './upstreams.js';

export interface Dynamic {
  readonly scheme: 'http' | 'https';
  readonly rt: UpstreamRt;
  /** The URI of the evaluated URL (sent as it is), or null: the request's URI is used. */
  readonly uri: string | null;
  readonly proxyHost: string;
  readonly port: number;
}

/** An evaluated proxy_pass URL, or the reason it is not one. */
export function dynamicTarget(url: string, upstreams: Upstreams): Dynamic | string {
  const m = /^(https?):\/\/([^/]*)(\/.*)?$/i.exec(url);
  if (!m || m[2] === '') return `invalid URL prefix in "${url}"`;
  const scheme = m[1].toLowerCase() as 'http' | 'https';
  const dflt = scheme === 'https' ? 443 : 80;
  const authority = m[2];
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(authority);
  const [host, portText] = v6 ? [v6[1], v6[2]] : authority.split(':');
  if (!host) return `invalid host in "${url}"`;
  const port = portText === undefined ? dflt : Number(portText);
  if (!(port >= 1 && port <= 65535)) return `invalid port in "${url}"`;
  const named = portText === undefined ? upstreams.named(host) : undefined;
  return { scheme, rt: named ?? Upstreams.adhoc(host, port), uri: m[3] ?? null, proxyHost: authority, port };
}

const VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/** Why proxy_ssl_conf_command's refusals happen on both engines. */
const CLIENT = "the proxy's TLS client is node:tls on both engines";

/** proxy_ssl_* as tls.connect options (without the server name, set per try). `tlsUsed`: the
 *  proxy_pass can be https (nginx checks proxy_ssl_conf_command only then). */
export function sslOptions(ssl: ProxySslConf, ref: ProxyPass['ref'], tlsUsed = true): tls.ConnectionOptions {
  if (tlsUsed) checkConfCommands(ssl.confCommands, true, confCheck());
  const read = (file: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw new ConfError('TRESTY_ERR_CONF_OPEN', `cannot load "${file}": ${(e as Error).message}`, ref.file, ref.line);
    }
  };
  const known = ssl.protocols.filter((p): p is (typeof VERSIONS)[number] => (VERSIONS as readonly string[]).includes(p));
  const sorted = known.sort((a, b) => VERSIONS.indexOf(a) - VERSIONS.indexOf(b));
  return nodeConfOptions(tlsUsed ? ssl.confCommands : [], {
    rejectUnauthorized: ssl.verify,
    ...(ssl.trustedCertificate ? { ca: read(ssl.trustedCertificate) } : {}),
    ...(ssl.certificate ? { cert: read(ssl.certificate) } : {}),
    ...(ssl.certificateKey ? keyOptions(read(ssl.certificateKey), ssl.passwords, ssl.certificateKey, ref) : {}),
    ...(ssl.crl ? { crl: read(ssl.crl) } : {}),
    ...(sorted.length > 0 ? { minVersion: sorted[0], maxVersion: sorted[sorted.length - 1] } : {}),
    ...(ssl.ciphers !== 'DEFAULT' ? { ciphers: ssl.ciphers } : {}),
  }, 'proxy_ssl_conf_command', CLIENT);
}

/** The key, with the first proxy_ssl_password_file passphrase that opens it (nginx tries each). */
function keyOptions(key: Buffer, passwords: readonly string[], file: string, ref: ProxyPass['ref']): tls.ConnectionOptions {
  if (passwords.length === 0) return { key };
  for (const passphrase of passwords) {
    try {
      tls.createSecureContext({ key, passphrase });
      return { key, passphrase };
    } catch { /* the next one */ }
  }
  throw new ConfError('TRESTY_ERR_CONF_VALUE', `cannot load certificate key "${file}": no passphrase of proxy_ssl_password_file opens it`, ref.file, ref.line);
}

/** TLS sessions kept per server for proxy_ssl_session_reuse. */
const sessions = new Map<string, Buffer>();

/** How to reach a peer: plain, or TLS with SNI and the name checked as proxy_ssl_* say. */
export function targetOf(peer: Peer, scheme: 'http' | 'https', base: tls.ConnectionOptions, ssl: ProxySslConf, name: string): Target {
  if (scheme === 'http') return { key: peer.name, host: peer.host, port: peer.port, tls: null };
  const key = `https://${peer.name}|${name}`;
  const opts: tls.ConnectionOptions = {
    ...base,
    // nginx sends no SNI unless proxy_ssl_server_name is on; '' keeps Node from sending one.
    servername: ssl.serverName && !/^[\d.]+$|:/.test(name) ? name : '',
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
    ...(ssl.sessionReuse && sessions.has(key) ? { session: sessions.get(key) } : {}),
  };
  return { key, host: peer.host, port: peer.port, tls: opts };
}

/** Remembers a TLS session for the next connection to the same server. */
export function keepSession(t: Target, s: tls.TLSSocket): void {
  s.on('session', (session: Buffer) => {
    if (sessions.size > 1000) sessions.clear();
    sessions.set(t.key, session);
  });
}
