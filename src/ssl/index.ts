// tresty/ssl: lua-resty-core's ngx.ssl for ssl_certificate_by_js handlers, in the same shape as
// tresty/balancer: each function takes the handler's `ngx` first and answers Lua's multiple
// returns as an array. Certificates and keys are PEM (a string or bytes), or DER through
// set_der_cert / set_der_priv_key (cert_pem_to_der / priv_key_pem_to_der make it, as in Lua;
// both TLS stacks take PEM, so DER is turned back into PEM here):
//
//   ssl_certificate_by_js_block {
//     const { ssl } = require('tresty/ssl');           // the worker's module (or await import(...))
//     const name = ssl.server_name(ngx);
//     const pair = await store.lookup(name);            // may await
//     if (pair) { ssl.clear_certs(ngx); ssl.set_cert(ngx, pair.cert); ssl.set_priv_key(ngx, pair.key); }
//   }

import crypto from 'node:crypto';
import { certStateOf, type CertState } from '../tls/cert-state.js';
import { derChainToPem } from '../tls/der-chain.js';

const stateOf = (ngx: object, fn: string): CertState => certStateOf(ngx, `tresty/ssl: ${fn}`);

function isPem(v: unknown): v is string | Buffer {
  return (typeof v === 'string' || Buffer.isBuffer(v)) && v.includes('-----BEGIN');
}

/** The SNI name of the handshake (null when the client sent none). */
export function server_name(ngx: object): string | null {
  return stateOf(ngx, 'server_name').serverName || null;
}

/** Drops the conf's certificates for this handshake: set_cert and set_priv_key must follow. */
export function clear_certs(ngx: object): [true] {
  const s = stateOf(ngx, 'clear_certs');
  s.cleared = true;
  s.cert = null;
  s.key = null;
  return [true];
}

/** The certificate (chain) of this handshake, PEM. */
export function set_cert(ngx: object, cert: string | Buffer): [true] | [null, string] {
  const s = stateOf(ngx, 'set_cert');
  if (!isPem(cert)) return [null, 'the certificate must be PEM text'];
  s.cert = cert;
  return [true];
}

/** The private key of this handshake, PEM. */
export function set_priv_key(ngx: object, key: string | Buffer): [true] | [null, string] {
  const s = stateOf(ngx, 'set_priv_key');
  if (!isPem(key)) return [null, 'the private key must be PEM text'];
  s.key = key;
  return [true];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** A PEM chain as the DER of its certificates one after another (ngx.ssl's cert_pem_to_der). */
export function cert_pem_to_der(pem: string | Buffer): [Buffer] | [null, string] {
  const blocks = String(pem).match(PEM_CERT);
  if (blocks === null) return [null, 'PEM_read_bio_X509_AUX() failed'];
  return [Buffer.concat(blocks.map((b) => Buffer.from(b.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')))];
}

/** A PEM private key as DER (ngx.ssl's priv_key_pem_to_der; PKCS#8 here). */
export function priv_key_pem_to_der(pem: string | Buffer): [Buffer] | [null, string] {
  try {
    return [crypto.createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' })];
  } catch {
    return [null, 'PEM_read_bio_PrivateKey() failed'];
  }
}

/** The certificate (chain) of this handshake, DER (cert_pem_to_der's). */
export function set_der_cert(ngx: object, der: Buffer | Uint8Array): [true] | [null, string] {
  const s = stateOf(ngx, 'set_der_cert');
  const pem = der instanceof Uint8Array ? derChainToPem(der) : null;
  if (pem === null) return [null, 'd2i_X509() failed'];
  s.cert = pem;
  return [true];
}

/** The private key of this handshake, DER (PKCS#8, or PKCS#1 RSA, or SEC1 EC). */
export function set_der_priv_key(ngx: object, der: Buffer | Uint8Array): [true] | [null, string] {
  const s = stateOf(ngx, 'set_der_priv_key');
  if (!(der instanceof Uint8Array)) return [null, 'd2i_PrivateKey() failed'];
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      s.key = crypto.createPrivateKey({ key, format: 'der', type }).export({ format: 'pem', type: 'pkcs8' });
      return [true];
    } catch { /* the next encoding */ }
  }
  return [null, 'd2i_PrivateKey() failed'];
}

export const ssl = {
  server_name, clear_certs, set_cert, set_priv_key, set_der_cert, set_der_priv_key, cert_pem_to_der, priv_key_pem_to_der,
};
export default ssl;
