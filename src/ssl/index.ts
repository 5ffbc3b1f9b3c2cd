// tresty/ssl: lua-resty-core's ngx.ssl for ssl_certificate_by_js handlers, in the same shape as
// tresty/balancer: each function takes the handler's `ngx` first and answers Lua's multiple
// returns as an array. Certificates and keys are PEM (a string or bytes):
//
//   ssl_certificate_by_js_block {
//     const { ssl } = await import('tresty/ssl');
//     const name = ssl.server_name(ngx);
//     const pair = await store.lookup(name);            // may await
//     if (pair) { ssl.clear_certs(ngx); ssl.set_cert(ngx, pair.cert); ssl.set_priv_key(ngx, pair.key); }
//   }

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

export const ssl = { server_name, clear_certs, set_cert, set_priv_key };
export default ssl;
