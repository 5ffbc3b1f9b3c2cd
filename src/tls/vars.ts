// nginx's $ssl_* variables from a request's TlsInfo (tls/info.ts), the same on both TLS paths.
// As nginx's, each is "not found" (`-` in the access log, '' in a template) when empty: over
// plain HTTP, and the $ssl_client_* ones without a client certificate.
import crypto from 'node:crypto';
import type { TlsInfo } from './info.js';

type Get = (t: TlsInfo) => string;

/** The certificate, parsed once per request's info. */
const parsed = new WeakMap<TlsInfo, crypto.X509Certificate | null>();

function x509(t: TlsInfo): crypto.X509Certificate | null {
  let x = parsed.get(t);
  if (x === undefined) {
    try {
      x = t.cert === null ? null : new crypto.X509Certificate(t.cert);
    } catch {
      x = null;
    }
    parsed.set(t, x);
  }
  return x;
}

/** A name as RFC 2253 writes it (nginx's since 1.11.6): the last element first, comma-separated. */
function dn(lines: string | undefined): string {
  return lines ? lines.split('\n').reverse().join(',') : '';
}

function pem(t: TlsInfo): string {
  if (t.cert === null) return '';
  const b64 = t.cert.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

const DAY = 86_400_000;

const GETTERS: ReadonlyMap<string, Get> = new Map<string, Get>([
  ['ssl_protocol', (t) => t.protocol],
  ['ssl_cipher', (t) => t.cipher],
  ['ssl_server_name', (t) => t.serverName],
  ['ssl_session_reused', (t) => (t.reused ? 'r' : '.')],
  ['ssl_session_id', (t) => t.sessionId],
  ['ssl_curve', (t) => t.curve],
  ['ssl_ciphers', (t) => t.ciphers],
  ['ssl_curves', (t) => t.curves],
  ['ssl_client_verify', (t) => t.verify],
  ['ssl_client_s_dn', (t) => dn(x509(t)?.subject)],
  ['ssl_client_i_dn', (t) => dn(x509(t)?.issuer)],
  ['ssl_client_serial', (t) => x509(t)?.serialNumber.toUpperCase() ?? ''],
  ['ssl_client_fingerprint', (t) => (t.cert === null ? '' : crypto.createHash('sha1').update(t.cert).digest('hex'))],
  ['ssl_client_raw_cert', pem],
  // nginx's older form: a tab after each line break but the last, which it drops
  ['ssl_client_cert', (t) => pem(t).replace(/\n$/, '').replace(/\n/g, '\n\t')],
  ['ssl_client_escaped_cert', (t) => encodeURIComponent(pem(t))],
  ['ssl_client_v_start', (t) => x509(t)?.validFrom ?? ''],
  ['ssl_client_v_end', (t) => x509(t)?.validTo ?? ''],
  ['ssl_client_v_remain', (t) => {
    const x = x509(t);
    if (x === null) return '';
    const left = Date.parse(x.validTo) - Date.now();
    return String(left > 0 ? Math.floor(left / DAY) : 0);
  }],
]);

/** The names (config/var-names.ts lists them with the other built-ins). */
export function sslVarNames(): string[] {
  return [...GETTERS.keys()];
}

/** `$name` of a request whose session is `t` (null: plain HTTP): undefined when not found. */
export function sslVar(name: string, t: TlsInfo | null): string | undefined {
  const get = GETTERS.get(name);
  if (get === undefined || t === null) return undefined;
  return get(t) || undefined;
}
