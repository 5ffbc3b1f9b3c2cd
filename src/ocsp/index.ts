// tresty/ocsp: lua-resty-core's ngx.ocsp, OCSP stapling for the certificates ssl_certificate_by_js
// chooses (ssl_stapling staples only the conf's, as nginx). The handler (or a timer filling an
// ngx.shared cache) asks the responder itself, with ngx.socket.tcp or any HTTP client, as in
// OpenResty. Chains are DER, the leaf first and its issuer next (tresty/ssl's cert_pem_to_der);
// Lua's `value, err` returns are arrays, errors worded as OpenResty's. OpenSSL (the engine's
// tls_ocsp.c, the same code ssl_stapling uses) builds requests and checks responses:
//
//   ssl_certificate_by_js_block {
//     const { ssl } = require('tresty/ssl');      // the worker's modules (or await import(...))
//     const { ocsp } = require('tresty/ocsp');
//     const der = ssl.cert_pem_to_der(pem)[0];
//     const [url] = ocsp.get_ocsp_responder_from_der_chain(der);
//     const [req] = ocsp.create_ocsp_request(der);
//     const resp = await post(url, req);                 // the user's HTTP
//     const [ok, err] = ocsp.validate_ocsp_response(resp, der);
//     if (ok) ocsp.set_ocsp_status_resp(ngx, resp);
//   }
import crypto from 'node:crypto';
import { loadEngine } from '../http/native-binding.js';
import { certStateOf } from '../tls/cert-state.js';
import { derCertificates, derToPem } from '../tls/der-chain.js';
import { ocspUrl } from '../tls/ocsp-plan.js';

/** lua-resty-core's default buffer (get_string_buf_size): the default maxlen of each function. */
const BUF = 4096;

type Leaf = { leaf: crypto.X509Certificate; issuer: crypto.X509Certificate } | { err: string };

function x509(der: Buffer): crypto.X509Certificate | null {
  try {
    return new crypto.X509Certificate(der);
  } catch {
    return null;
  }
}

/** The leaf of a DER chain and the DER of the certificate after it, or OpenResty's error. */
function leafOf(chain: unknown): { leaf: crypto.X509Certificate; next: Buffer | undefined } | { err: string } {
  const certs = chain instanceof Uint8Array ? derCertificates(chain, 2) : null;
  const leaf = certs?.[0] !== undefined ? x509(certs[0]) : null;
  return certs === null || leaf === null ? { err: 'd2i_X509_bio() failed' } : { leaf, next: certs[1] };
}

/** The leaf and its issuer of a DER chain (or of leafOf's answer), or OpenResty's error. */
function leafAndIssuer(chain: unknown, l = leafOf(chain)): Leaf {
  if ('err' in l) return l;
  if (l.next === undefined) return { err: 'no issuer certificate in chain' };
  const issuer = x509(l.next);
  return issuer === null ? { err: 'd2i_X509_bio() failed' } : { leaf: l.leaf, issuer };
}

const pemOf = (c: crypto.X509Certificate): Buffer => Buffer.from(derToPem(c.raw));
/** OpenSSL's reason, which nginx's log lines carry, is not in OpenResty's error strings. */
const plain = (e: unknown): string => (e as Error).message.replace(/ \(SSL: .*\)$/s, '');

/** The OCSP responder URL of the chain's leaf: [url], [null] when it names none, [url, "truncated"]
 *  when longer than `maxlen`, or [null, err]. */
export function get_ocsp_responder_from_der_chain(chain: Uint8Array, maxlen = BUF): [string] | [null] | [string, 'truncated'] | [null, string] {
  const l = leafOf(chain);
  if ('err' in l) return [null, l.err];
  const url = ocspUrl(l.leaf);
  if (url === null) return [null];
  const c = leafAndIssuer(chain, l);
  if ('err' in c) return [null, c.err];
  if (!c.leaf.checkIssued(c.issuer)) return [null, 'issuer certificate not next to leaf'];
  return url.length > maxlen ? [url.slice(0, maxlen), 'truncated'] : [url];
}

/** The DER OCSP request for the chain's leaf: [request] or [null, err]. */
export function create_ocsp_request(chain: Uint8Array, maxlen = BUF): [Buffer] | [null, string] {
  const c = leafAndIssuer(chain);
  if ('err' in c) return [null, c.err];
  const native = loadEngine();
  if (!native?.ocspRequest) return [null, 'no OCSP support'];
  let req: Buffer;
  try {
    req = native.ocspRequest(pemOf(c.leaf), pemOf(c.issuer));
  } catch (e) {
    return [null, plain(e)];
  }
  return req.length > maxlen ? [null, `output buffer too small: ${req.length} > ${maxlen}`] : [req];
}

/** Whether the DER response says "good" for the chain's leaf, signed and current (the signer's
 *  own chain is not verified, as OpenResty's OCSP_NOVERIFY): [true] or [null, err]. */
export function validate_ocsp_response(resp: Uint8Array, chain: Uint8Array, maxErrLen = BUF): [true] | [null, string] {
  const native = loadEngine();
  if (!native?.ocspCheck) return [null, 'no OCSP support'.slice(0, maxErrLen)];
  if (!(resp instanceof Uint8Array)) return [null, 'd2i_OCSP_RESPONSE() failed'.slice(0, maxErrLen)];
  const c = leafAndIssuer(chain);
  const none = Buffer.from('-'); // no certificate: OpenSSL says OCSP_cert_to_id() failed after the response's checks
  try {
    // a bad chain still checks the response first, as OpenResty reports its errors in that order
    // the chain argument is ssl_certificate's file (its leaf skipped): the issuer is a signer
    // candidate there, as OpenResty's, for a response that carries no certificates
    const [leaf, issuer] = 'err' in c ? [none, none] : [pemOf(c.leaf), pemOf(c.issuer)];
    native.ocspCheck(Buffer.from(resp.buffer, resp.byteOffset, resp.byteLength), leaf, issuer, 'err' in c ? null : Buffer.concat([leaf, issuer]), null, false);
  } catch (e) {
    const msg = plain(e);
    return [null, ('err' in c && msg === 'OCSP_cert_to_id() failed' ? c.err : msg).slice(0, maxErrLen)];
  }
  return 'err' in c ? [null, c.err.slice(0, maxErrLen)] : [true];
}

/** Staples the DER response to this handshake (ssl_certificate_by_js only): [true], [true, "no
 *  status req"] when the client did not ask for one (nothing is sent then), or [null, err]. */
export function set_ocsp_status_resp(ngx: object, resp: Uint8Array): [true] | [true, 'no status req'] | [null, string] {
  const s = certStateOf(ngx, 'tresty/ocsp: set_ocsp_status_resp');
  if (!(resp instanceof Uint8Array)) return [null, 'the OCSP response must be bytes'];
  if (!s.statusRequest) return [true, 'no status req'];
  s.ocsp = Buffer.from(resp); // a copy: the caller may reuse its buffer
  return [true];
}

export const ocsp = { get_ocsp_responder_from_der_chain, create_ocsp_request, validate_ocsp_response, set_ocsp_status_resp };
export default ocsp;
