// The state of one ssl_certificate_by_js call (one TLS handshake), which the tresty/ssl
// functions read and set; found by the handler's ngx object, so a handler that awaits (a
// certificate store lookup) still sets the certificate of its own handshake.
import { TrestyError } from '../errors.js';

export interface CertState {
  /** The SNI name the client sent. */
  readonly serverName: string;
  cert: string | Buffer | null;
  key: string | Buffer | null;
  /** clear_certs() was called: without a new pair the handshake fails. */
  cleared: boolean;
  /** The client sent status_request (set_ocsp_status_resp answers "no status req" otherwise). */
  readonly statusRequest: boolean;
  /** The DER OCSP response set_ocsp_status_resp gave, stapled when the client asked. */
  ocsp: Buffer | null;
}

export const certStates = new WeakMap<object, CertState>();

/** The state of the handshake whose handler got this `ngx`; `what` (e.g. "tresty/ssl: set_cert")
 *  is refused anywhere else. */
export function certStateOf(ngx: object, what: string): CertState {
  const s = certStates.get(ngx);
  if (s === undefined) {
    throw new TrestyError('TRESTY_ERR_API_DISABLED', `${what} is only allowed in ssl_certificate_by_js*, with that handler's ngx`);
  }
  return s;
}
