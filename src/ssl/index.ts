// tresty/ssl: lua-resty-core's ngx.ssl for ssl_certificate_by_js handlers, in the same shape as
// tresty/balancer: each function takes the handler's `ngx` first and answers Lua's multiple
// returns as an array. Certificates and keys are PEM (a string or bytes), or DER through
// set_der_cert / set_der_priv_key (cert_pem_to_der / priv_key_pem_to_der make it, as in Lua;
// both TLS stacks take PEM, so DER is turned back into PEM here):
//
//   ssl_certificate_by_js_block {
//     const { ssl } = await import('tresty/ssl');
//     const name = ssl.server_name(ngx);
//     const pair = await store.lookup(name);            // may await
//     if (pair) { ssl.clear_certs(ngx); ssl.set_cert(ngx, pair.cert); ssl.set_priv_key(ngx, pair.key); }
//   }

import crypto from 'node:crypto';
import { TrestyError } from '../errors.js';
import { certStates, type CertState } from '../tls/cert-state.js';

function stateOf(ngx: object, fn: string): CertState {
  const s = certStates.get(ngx);
  if (s === undefined) {
    throw new TrestyError('TRESTY_ERR_API_DISABLED', `tresty/ssl: ${fn} is only allowed in ssl_certificate_by_js*, with that handler's ngx`);
  }
  return s;
}

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

/** Concatenated DER certificates back as PEM blocks (each an ASN.1 SEQUENCE: its length says where it ends). */
function derChainToPem(der: Buffer): string | null {
  const out: string[] = [];
  for (let at = 0; at < der.length;) {
    if (der[at] !== 0x30 || at + 2 > der.length) return null;
    let len = der[at + 1]!;
    let head = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || at + 2 + n > der.length) return null;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[at + 2 + i]!;
      head += n;
    }
    if (at + head + len > der.length) return null;
    const b64 = der.subarray(at, at + head + len).toString('base64').replace(/.{1,64}/g, '$&\n');
    out.push(`-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`);
    at += head + len;
  }
  return out.length > 0 ? out.join('') : null;
}

/** The certificate (chain) of this handshake, DER (cert_pem_to_der's). */
export function set_der_cert(ngx: object, der: Buffer | Uint8Array): [true] | [null, string] {
  const s = stateOf(ngx, 'set_der_cert');
  const pem = der instanceof Uint8Array ? derChainToPem(Buffer.from(der.buffer, der.byteOffset, der.byteLength)) : null;
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
