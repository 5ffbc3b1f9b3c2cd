// The state of one ssl_certificate_by_js call (one TLS handshake), which the tresty/ssl
// functions read and set; found by the handler's ngx object, so a handler that awaits (a
// certificate store lookup) still sets the certificate of its own handshake.

export interface CertState {
  /** The SNI name the client sent. */
  readonly serverName: string;
  cert: string | Buffer | null;
  key: string | Buffer | null;
  /** clear_certs() was called: without a new pair the handshake fails. */
  cleared: boolean;
}

export const certStates = new WeakMap<object, CertState>();
