// Mutable state the gateway's directives fill while the conf is walked (proxy_*, ssl_*,
// upstream blocks); gateway-merge.ts merges it top-down and turns it into types-gateway.ts.

import type {
  HandlerSpec, ProxyPass, ProxySslConf, RedirectRule, SourceRef, UpstreamConf, UpstreamServerConf,
} from './types.js';
import type { CookieFlagsRule, CookieRule, SslConfCommand, SslVerifyClient } from './types-gateway.js';
import type { ProxyCacheConf } from './types-cache.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One level's own proxy_* settings; arrays replace the outer level's as a whole (nginx's rule). */
export interface ProxySettings extends Partial<Mutable<ProxyCacheConf>> {
  pass?: ProxyPass;
  setHeaders?: Array<[string, string]>;
  passRequestHeaders?: boolean;
  passRequestBody?: boolean;
  setBody?: string;
  hideHeaders?: string[];
  passHeaders?: string[];
  httpVersion?: '1.0' | '1.1';
  method?: string;
  connectTimeout?: number;
  sendTimeout?: number;
  readTimeout?: number;
  nextUpstream?: number;
  nextUpstreamTries?: number;
  nextUpstreamTimeout?: number;
  buffering?: boolean;
  requestBuffering?: boolean;
  bufferSize?: number;
  buffers?: number;
  clientBodyBufferSize?: number;
  clientBodyTempPath?: string | null;
  clientBodyInFileOnly?: 'off' | 'on' | 'clean';
  interceptErrors?: boolean;
  ignoreClientAbort?: boolean;
  redirects?: RedirectRule[];
  cookieDomains?: CookieRule[];
  cookiePaths?: CookieRule[];
  cookieFlags?: CookieFlagsRule[];
  ssl?: Partial<Mutable<ProxySslConf>>;
  bind?: { addr: string; transparent: boolean } | null;
  limitRate?: number;
  forceRanges?: boolean;
}

export interface SslSettings {
  /** The deprecated `ssl on`: every listen of the server is TLS; where it stood, for errors. */
  enable?: boolean;
  enableRef?: SourceRef;
  certificates?: string[];
  keys?: string[];
  /** Where the first ssl_certificate / _key stood, for pairing errors. */
  certRef?: SourceRef;
  protocols?: string[];
  ciphers?: string;
  preferServerCiphers?: boolean;
  ecdhCurve?: string;
  sessionCache?: number;
  sessionTimeout?: number;
  sessionTickets?: boolean;
  certificateHandler?: HandlerSpec;
  // directives-conf2.ts
  dhparam?: string;
  dhparamRef?: SourceRef;
  stapling?: boolean;
  // directives-ssl-verify.ts
  verifyClient?: SslVerifyClient | null;
  /** Where ssl_verify_client stood, and where its files were named (for errors about them). */
  verifyRef?: SourceRef;
  verifyFileRef?: SourceRef;
  clientCertificate?: string;
  trustedCertificate?: string;
  verifyDepth?: number;
  crl?: string;
  // directives-ssl-reject.ts
  rejectHandshake?: boolean;
  // directives-ssl-stapling.ts
  staplingFile?: string;
  staplingRef?: SourceRef;
  staplingResponder?: string;
  staplingVerify?: boolean;
  // directives-ssl.ts
  confCommands?: SslConfCommand[];
  passwords?: string[];
  // directives-ssl-ocsp.ts: where `ssl_ocsp on | leaf` stood (null: off)
  ocsp?: SourceRef | null;
}

export interface UpstreamBuilder {
  name: string;
  ref: SourceRef;
  servers: UpstreamServerConf[];
  policy?: UpstreamConf['policy'];
  hashKey?: string;
  consistent?: boolean;
  keepalive?: number;
  keepaliveTimeout?: number;
  keepaliveRequests?: number;
  keepaliveTime?: number;
  balancer?: HandlerSpec;
}
