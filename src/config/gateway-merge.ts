// Merging and finishing the gateway's settings: proxy_* and ssl_* inherit from outer blocks
// (a list such as proxy_set_header is inherited only by a level that sets none of its own, as
// nginx does; proxy_pass is never inherited), and upstream blocks get nginx's defaults.

import type { ProxySettings, SslSettings, UpstreamBuilder } from './builders-gateway.js';
import { confError } from './table.js';
import { PROXY_CACHE_DEFAULTS } from './types-cache.js';
import {
  NEXT, type ProxyConf, type ProxySslConf, type SslConf, type UpstreamConf,
} from './types-gateway.js';

const PROXY_DEFAULTS: Omit<ProxyConf, 'pass' | 'ssl'> = {
  ...PROXY_CACHE_DEFAULTS,
  setHeaders: [],
  bind: null,
  limitRate: 0,
  forceRanges: false,
  passRequestHeaders: true,
  passRequestBody: true,
  setBody: null,
  hideHeaders: [],
  passHeaders: [],
  httpVersion: '1.0',
  method: null,
  connectTimeout: 60_000,
  sendTimeout: 60_000,
  readTimeout: 60_000,
  nextUpstream: NEXT.error | NEXT.timeout,
  nextUpstreamTries: 0,
  nextUpstreamTimeout: 0,
  buffering: true,
  requestBuffering: true,
  bufferSize: 4096,
  buffers: 8 * 4096,
  clientBodyBufferSize: 8192,
  clientBodyTempPath: null,
  clientBodyInFileOnly: 'off',
  interceptErrors: false,
  ignoreClientAbort: false,
  redirects: ['default'],
  cookieDomains: [],
  cookiePaths: [],
  cookieFlags: [],
};

const PROXY_SSL_DEFAULTS: ProxySslConf = {
  verify: false,
  verifyDepth: 1,
  trustedCertificate: null,
  serverName: false,
  name: null,
  protocols: ['TLSv1.2', 'TLSv1.3'],
  ciphers: 'DEFAULT',
  sessionReuse: true,
  certificate: null,
  certificateKey: null,
  crl: null,
  passwords: [],
  confCommands: [],
};

const SSL_DEFAULTS: Omit<SslConf, 'certificates' | 'certificateHandler' | 'ref' | 'verifyRef'> = {
  protocols: ['TLSv1.2', 'TLSv1.3'],
  ciphers: 'HIGH:!aNULL:!MD5',
  preferServerCiphers: false,
  ecdhCurve: 'auto',
  sessionCache: 0,
  sessionTimeout: 300_000,
  sessionTickets: true,
  dhparam: null,
  stapling: false,
  verifyClient: null,
  clientCertificate: null,
  trustedCertificate: null,
  verifyDepth: null,
  crl: null,
  rejectHandshake: null,
  staplingFile: null,
  staplingResponder: null,
  staplingVerify: false,
  confCommands: [],
  passwords: null,
};

/** An inner level's proxy settings over its parent's; `pass` belongs to the level alone. */
export function mergeProxy(parent: ProxySettings | undefined, own: ProxySettings | undefined): ProxySettings {
  const { pass: _inherited, ...base } = parent ?? {};
  if (!own) return base;
  return { ...base, ...own, ssl: { ...base.ssl, ...own.ssl } };
}

export function mergeSsl(parent: SslSettings | undefined, own: SslSettings | undefined): SslSettings {
  if (!own) return parent ?? {};
  const merged: SslSettings = { ...parent, ...own };
  // Certificates and keys go together: a level with its own pairs does not mix in its parent's.
  if (own.certificates || own.keys) {
    merged.certificates = own.certificates ?? [];
    merged.keys = own.keys ?? [];
  }
  return merged;
}

export function proxyConf(s: ProxySettings | undefined): ProxyConf {
  const own = s ?? {};
  const { ssl, pass, ...rest } = own;
  const set = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return { ...PROXY_DEFAULTS, ...set, pass: pass ?? null, ssl: { ...PROXY_SSL_DEFAULTS, ...definedOnly(ssl ?? {}) } };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function sslConf(s: SslSettings | undefined): SslConf {
  const own = s ?? {};
  const certs = own.certificates ?? [];
  const keys = own.keys ?? [];
  if (certs.length !== keys.length && own.certRef) {
    throw confError('TRESTY_ERR_CONF_VALUE',
      `each "ssl_certificate" needs its "ssl_certificate_key" (${certs.length} certificates, ${keys.length} keys)`, own.certRef);
  }
  if (own.verifyClient && own.verifyClient !== 'optional_no_ca' && !own.clientCertificate && own.verifyRef) {
    // nginx 1.22 asks for it even with ssl_trusted_certificate (its CAs are not named to clients)
    throw confError('TRESTY_ERR_CONF_VALUE', 'no ssl_client_certificate for ssl_verify_client', own.verifyRef);
  }
  if (own.ocsp && own.verifyClient === 'optional_no_ca') {
    throw confError('TRESTY_ERR_CONF_VALUE', '"ssl_ocsp" is incompatible with "ssl_verify_client optional_no_ca"', own.ocsp);
  }
  if (own.ocsp && own.verifyClient) {
    throw confError('TRESTY_ERR_CONF_UNSUPPORTED',
      '"ssl_ocsp" directive: tresty does not check client certificates over OCSP (on either engine); check their revocation with ssl_crl', own.ocsp);
  }
  return {
    ...SSL_DEFAULTS,
    ...definedOnly({
      protocols: own.protocols, ciphers: own.ciphers, preferServerCiphers: own.preferServerCiphers,
      ecdhCurve: own.ecdhCurve, sessionCache: own.sessionCache, sessionTimeout: own.sessionTimeout,
      sessionTickets: own.sessionTickets, dhparam: own.dhparam, stapling: own.stapling,
      staplingResponder: own.staplingResponder, staplingVerify: own.staplingVerify,
      verifyClient: own.verifyClient, clientCertificate: own.clientCertificate,
      trustedCertificate: own.trustedCertificate, verifyDepth: own.verifyDepth, crl: own.crl,
      confCommands: own.confCommands, passwords: own.passwords,
    }),
    verifyRef: own.verifyFileRef ?? own.verifyRef ?? null,
    certificates: certs.map((certificate, i) => ({ certificate, key: keys[i]! })),
    ref: own.certRef ?? own.dhparamRef ?? null,
    certificateHandler: own.certificateHandler ?? null,
    rejectHandshake: own.rejectHandshake === true ? true : null,
    staplingFile: own.staplingFile && own.staplingRef ? { path: own.staplingFile, ref: own.staplingRef } : null,
  };
}

export function upstreamConf(b: UpstreamBuilder): UpstreamConf {
  if (b.servers.length === 0 && !b.balancer) {
    throw confError('TRESTY_ERR_CONF_VALUE', 'no servers are inside upstream', b.ref);
  }
  const policy = b.policy ?? 'round_robin';
  if ((policy === 'hash' || policy === 'ip_hash') && b.servers.some((s) => s.backup)) {
    throw confError('TRESTY_ERR_CONF_VALUE', 'balancing method does not support parameter "backup"', b.servers.find((s) => s.backup)!.ref);
  }
  return {
    name: b.name, ref: b.ref, servers: b.servers, policy,
    hashKey: b.hashKey ?? null, consistent: b.consistent ?? false,
    keepalive: b.keepalive ?? 0,
    keepaliveTimeout: b.keepaliveTimeout ?? 60_000,
    keepaliveRequests: b.keepaliveRequests ?? 1000,
    keepaliveTime: b.keepaliveTime ?? 3_600_000,
    balancer: b.balancer ?? null,
    implicit: false,
  };
}
