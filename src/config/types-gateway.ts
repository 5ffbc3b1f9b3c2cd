// The gateway's part of the resolved conf (issue 14): proxying (proxy_*), upstream blocks and
// TLS (ssl_*). Kept apart from types.ts so the core types stay readable; types.ts re-exports it.

import type { HandlerSpec, SourceRef } from './types.js';
import type { ProxyCacheConf } from './types-cache.js';

/** Handler kinds that are not request phases: per upstream try, per TLS handshake. */
export type GatewayPhase = 'balancer' | 'ssl_certificate';

/** proxy_next_upstream conditions, one bit each (nginx's NGX_HTTP_UPSTREAM_FT_*). */
export const NEXT = {
  error: 1 << 0,
  timeout: 1 << 1,
  invalid_header: 1 << 2,
  http_500: 1 << 3,
  http_502: 1 << 4,
  http_503: 1 << 5,
  http_504: 1 << 6,
  http_403: 1 << 7,
  http_404: 1 << 8,
  http_429: 1 << 9,
  non_idempotent: 1 << 10,
  off: 1 << 11,
} as const;
export type NextCondition = keyof typeof NEXT;

/** The argument of proxy_pass, parsed at load. */
export interface ProxyPass {
  /** The argument as written. */
  readonly url: string;
  /** True when it holds variables: the URL is built per request. */
  readonly dynamic: boolean;
  readonly scheme: 'http' | 'https';
  /** Static form: an upstream block's name or `host[:port]` (or `unix:/path`). */
  readonly host: string;
  readonly port: number;
  /** $proxy_host: host[:port] as written, the port left out when it is the scheme's default. */
  readonly proxyHost: string;
  /** The URI part (`/x/` in `http://h/x/`), or null when the argument has none. */
  readonly uri: string | null;
  /** The location prefix a URI part replaces (nginx's rule); '' when it does not apply. */
  readonly prefix: string;
  readonly ref: SourceRef;
}

export interface ProxySslConf {
  readonly verify: boolean;
  readonly verifyDepth: number;
  /** Absolute path of the trusted CA file, or null (the system's CAs). */
  readonly trustedCertificate: string | null;
  readonly serverName: boolean;
  /** proxy_ssl_name: a template, null = $proxy_host. */
  readonly name: string | null;
  readonly protocols: readonly string[];
  readonly ciphers: string;
  readonly sessionReuse: boolean;
  readonly certificate: string | null;
  readonly certificateKey: string | null;
  /** proxy_ssl_crl: revoked certificates the upstream's chain is checked against (absolute path). */
  readonly crl: string | null;
  /** proxy_ssl_password_file's passphrases, tried in order on the certificate key. */
  readonly passwords: readonly string[];
  /** proxy_ssl_conf_command's, in order (the innermost level that has any). */
  readonly confCommands: readonly SslConfCommand[];
}

/** One `ssl_conf_command NAME VALUE` (or proxy_ssl_'s): OpenSSL's SSL_CONF_cmd, and where it stood. */
export interface SslConfCommand {
  readonly name: string;
  /** A file command's relative path made absolute (nginx does too). */
  readonly value: string;
  readonly ref: SourceRef;
}

/** `proxy_cookie_domain|path FROM TO`: FROM a string, or a regex (`~`, `~*`) with captures for TO. */
export interface CookieRule {
  readonly from: string;
  readonly regex: RegExp | null;
  readonly to: string;
}

/** `proxy_cookie_flags COOKIE FLAG...`: COOKIE a case-insensitive name, or a `~` regex. */
export interface CookieFlagsRule {
  readonly name: string;
  readonly regex: RegExp | null;
  /** As written (they may hold variables): secure, nosecure, httponly, nohttponly, samesite=..., nosamesite. */
  readonly flags: readonly string[];
}

export type RedirectRule = 'default' | 'off' | { readonly from: string; readonly to: string };

/** proxy_cache_* settings: types-cache.ts. */
export interface ProxyConf extends ProxyCacheConf {
  /** This location's own proxy_pass (never inherited), or null. */
  readonly pass: ProxyPass | null;
  /** proxy_set_header pairs (value templates), as inherited: the innermost level that has any. */
  readonly setHeaders: ReadonlyArray<readonly [string, string]>;
  readonly passRequestHeaders: boolean;
  readonly passRequestBody: boolean;
  /** proxy_set_body: the body sent upstream instead of the client's (a template), or null. */
  readonly setBody: string | null;
  /** Lower-cased names. */
  readonly hideHeaders: readonly string[];
  readonly passHeaders: readonly string[];
  readonly httpVersion: '1.0' | '1.1';
  readonly method: string | null;
  readonly connectTimeout: number; // ms
  readonly sendTimeout: number;
  readonly readTimeout: number;
  /** NEXT bits. */
  readonly nextUpstream: number;
  readonly nextUpstreamTries: number; // 0 = no limit
  readonly nextUpstreamTimeout: number; // ms, 0 = no limit
  readonly buffering: boolean;
  readonly requestBuffering: boolean;
  readonly bufferSize: number; // the most a response head may take
  readonly buffers: number; // bytes held before output is pushed (proxy_buffers N x SIZE)
  readonly clientBodyBufferSize: number;
  /** client_body_temp_path: where bodies past the buffer go (null: <prefix>/client_body_temp). */
  readonly clientBodyTempPath: string | null;
  /** client_body_in_file_only: every body read_body reads goes to a file (removed at the end, `on` too, as OpenResty's). */
  readonly clientBodyInFileOnly: 'off' | 'on' | 'clean';
  readonly interceptErrors: boolean;
  readonly ignoreClientAbort: boolean;
  readonly redirects: readonly RedirectRule[];
  /** proxy_cookie_domain / proxy_cookie_path rules, first match wins; empty: off. */
  readonly cookieDomains: readonly CookieRule[];
  readonly cookiePaths: readonly CookieRule[];
  /** proxy_cookie_flags rules, first match wins; empty: off. */
  readonly cookieFlags: readonly CookieFlagsRule[];
  readonly ssl: ProxySslConf;
  /** proxy_bind: the local address of upstream sockets (a template), null for off. */
  readonly bind: { readonly addr: string; readonly transparent: boolean } | null;
  /** proxy_limit_rate: bytes per second read from the upstream (with proxy_buffering); 0: no limit. */
  readonly limitRate: number;
  /** proxy_force_ranges: nginx's range filter on proxied 200s with a length. */
  readonly forceRanges: boolean;
}

export interface UpstreamServerConf {
  /** As written (`127.0.0.1:8080`, `backend.local`, `unix:/tmp/s.sock`). */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly maxFails: number;
  readonly failTimeout: number; // ms
  readonly maxConns: number; // 0 = no limit
  readonly backup: boolean;
  readonly down: boolean;
  readonly ref: SourceRef;
}

export interface UpstreamConf {
  readonly name: string;
  readonly ref: SourceRef;
  /** Primary and backup servers, in conf order (a host name gives one entry per address). */
  readonly servers: readonly UpstreamServerConf[];
  readonly policy: 'round_robin' | 'least_conn' | 'hash' | 'ip_hash';
  /** hash KEY: a template. */
  readonly hashKey: string | null;
  readonly consistent: boolean;
  /** Idle connections each worker keeps to this upstream; 0 = none (Connection: close). */
  readonly keepalive: number;
  readonly keepaliveTimeout: number; // ms
  readonly keepaliveRequests: number;
  readonly keepaliveTime: number; // ms
  readonly balancer: HandlerSpec | null;
  /** An implicit upstream made from a `proxy_pass http://host:port` (nginx does the same). */
  readonly implicit: boolean;
}

export interface SslCertPair {
  readonly certificate: string; // absolute path
  readonly key: string;
}

export interface SslConf {
  readonly certificates: readonly SslCertPair[];
  /** Where the certificates were given (for load errors), or null. */
  readonly ref: SourceRef | null;
  readonly protocols: readonly string[];
  readonly ciphers: string;
  readonly preferServerCiphers: boolean;
  readonly ecdhCurve: string;
  /** Session ids cached per worker: 0 = none. */
  readonly sessionCache: number;
  readonly sessionTimeout: number; // ms
  readonly sessionTickets: boolean;
  readonly certificateHandler: HandlerSpec | null;
  /** ssl_dhparam: absolute path of the DH parameters (PEM) for DHE ciphers, or null. */
  readonly dhparam: string | null;
  /** ssl_stapling on: staple OCSP responses (fetched, src/tls/ocsp-*.ts, or ssl_stapling_file's). */
  readonly stapling: boolean;
  /** ssl_stapling_responder: the responder's URL instead of the certificate's AIA one, or null. */
  readonly staplingResponder: string | null;
  /** ssl_stapling_verify on: a fetched response is verified against ssl_trusted_certificate. */
  readonly staplingVerify: boolean;
  /** ssl_verify_client: null = off (no certificate asked for). */
  readonly verifyClient: SslVerifyClient | null;
  /** Where ssl_verify_client stood (file errors), or null. */
  readonly verifyRef: SourceRef | null;
  /** ssl_client_certificate: CAs to verify with, also named to the client; absolute path or null. */
  readonly clientCertificate: string | null;
  /** ssl_trusted_certificate: CAs to verify with, not named to the client; absolute path or null. */
  readonly trustedCertificate: string | null;
  /** ssl_verify_depth: null = nginx's 1. */
  readonly verifyDepth: number | null;
  /** ssl_crl: revocation lists (PEM), absolute path or null. */
  readonly crl: string | null;
  /** ssl_reject_handshake on: handshakes this server would take are refused; null = off. */
  readonly rejectHandshake: true | null;
  /** ssl_stapling_file: the DER OCSP response to staple (absolute path), and where it was named. */
  readonly staplingFile: { readonly path: string; readonly ref: SourceRef } | null;
  /** ssl_conf_command's, in order (the innermost level that has any): applied after the rest. */
  readonly confCommands: readonly SslConfCommand[];
  /** ssl_password_file's passphrases, tried in order on each certificate key; null: none given. */
  readonly passwords: readonly string[] | null;
}

/** ssl_verify_client's asking modes (off is null). */
export type SslVerifyClient = 'on' | 'optional' | 'optional_no_ca';
