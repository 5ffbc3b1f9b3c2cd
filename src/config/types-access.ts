// Resolved conf of the access-related modules: map, allow/deny, real_ip, limit_req/limit_conn,
// auth_basic, limit_except. Kept apart from types.ts so each module's shape reads in one place.

/** A conf string with `$var`s, split once at load: text, or a variable name. */
export type TemplatePart = string | { readonly name: string };
export type TemplateParts = readonly TemplatePart[];

/** `map SOURCE $VAR { ... }` (http). Strings match case-insensitively; regexes in conf order. */
export interface MapConf {
  readonly variable: string;
  readonly source: TemplateParts;
  /** Lower-cased source strings → value. */
  readonly exact: ReadonlyMap<string, TemplateParts>;
  /** hostnames: `*.a.com` / `.a.com` as `.a.com` suffixes, longest first. */
  readonly startWild: readonly { readonly suffix: string; readonly value: TemplateParts }[];
  /** hostnames: `www.a.*` as `www.a.` prefixes, longest first. */
  readonly endWild: readonly { readonly prefix: string; readonly value: TemplateParts }[];
  readonly regexes: readonly { readonly regex: RegExp; readonly value: TemplateParts }[];
  readonly defaultValue: TemplateParts;
  readonly hostnames: boolean;
  /** volatile: evaluated on every read, not once per request. */
  readonly volatile: boolean;
}

/** `allow` / `deny`: an address as bytes (4 or 16) under a mask, `unix:` or `all`. */
export interface AccessRule {
  readonly deny: boolean;
  readonly kind: 'v4' | 'v6' | 'unix' | 'all';
  readonly addr: Uint8Array;
  readonly mask: Uint8Array;
  readonly ref: { readonly file: string; readonly line: number };
}

/** `set_real_ip_from` / `real_ip_header` / `real_ip_recursive`, merged as nginx does. */
export interface RealIpConf {
  /** Trusted sources (allow rules, deny unused). */
  readonly from: readonly AccessRule[];
  /** Lower-cased header name, or 'proxy_protocol'. */
  readonly header: string;
  readonly recursive: boolean;
}

/**
 * The access modules' settings on a location. Every key is EMPTY (null, [], false) when its
 * directives are not used, so the native engine's plan keeps the location (native-plan.ts).
 */
export interface AccessConf {
  /** allow/deny, first match wins; [] = none (a level with its own replaces its parent's). */
  readonly accessRules: readonly AccessRule[];
  /** `satisfy any`. */
  readonly satisfyAny: boolean;
  readonly realIp: RealIpConf | null;
  /** auth_basic with its user file; null where off (or no auth_basic_user_file). */
  readonly authBasic: AuthBasicConf | null;
  /** auth_request (ngx_http_auth_request_module); null where off. */
  readonly authRequest: AuthRequestConf | null;
  /** limit_req / limit_conn; null where none applies. */
  readonly limits: LimitsConf | null;
  /** `limit_except`: methods it lets through (GET brings HEAD) and the access settings of the others. */
  readonly limitExcept: LimitExceptConf | null;
}

export interface LimitExceptConf {
  readonly methods: readonly string[];
  readonly access: Omit<AccessConf, 'limitExcept'>;
}

/** `limit_req_zone` / `limit_conn_zone` (http): a key and a js_shared_dict zone of its own. */
export interface LimitZoneConf {
  readonly kind: 'req' | 'conn';
  readonly name: string;
  /** The js_shared_dict zone holding its records (`limit_req:NAME`, `limit_conn:NAME`). */
  readonly dict: string;
  readonly key: TemplateParts;
  /** limit_req: requests per second in thousandths (nginx's rate * 1000). */
  readonly rate: number;
  readonly ref: { readonly file: string; readonly line: number };
}

export interface LimitReqRule {
  readonly zone: string;
  /** In thousandths of a request, as nginx keeps excess. */
  readonly burst: number;
  /** Excess let through undelayed, in thousandths (Infinity: nodelay). */
  readonly delay: number;
  readonly ref: { readonly file: string; readonly line: number };
}

export interface LimitConnRule {
  readonly zone: string;
  readonly conn: number;
  readonly ref: { readonly file: string; readonly line: number };
}

export type LimitLogLevel = 'info' | 'notice' | 'warn' | 'error';

/** limit_req / limit_conn of a location, with their status, log level and dry run. */
export interface LimitsConf {
  readonly req: readonly LimitReqRule[];
  readonly reqStatus: number;
  readonly reqLogLevel: LimitLogLevel;
  readonly reqDryRun: boolean;
  readonly conn: readonly LimitConnRule[];
  readonly connStatus: number;
  readonly connLogLevel: LimitLogLevel;
  readonly connDryRun: boolean;
}

/** `auth_basic REALM` and `auth_basic_user_file FILE` (both may hold variables). */
export interface AuthBasicConf {
  readonly realm: TemplateParts;
  readonly file: TemplateParts;
  /** Where a relative file (after variables) is found: the main conf file's folder. */
  readonly confDir: string;
}

/** `auth_request URI` with the block's `auth_request_set $var value` lines. */
export interface AuthRequestConf {
  readonly uri: string;
  /** Evaluated on the subrequest once it is done, set on the request. */
  readonly set: readonly { readonly variable: string; readonly value: TemplateParts }[];
}

/** `split_clients STRING $VAR { P% value; ... * value; }` (http). */
export interface SplitClientsConf {
  readonly variable: string;
  readonly source: TemplateParts;
  /** In conf order: the value for a hash below `below` (nginx's running sum of the percents
   *  scaled to 0xffffffff); `below` 0 is `*`, which takes every hash. */
  readonly parts: readonly { readonly below: number; readonly value: string }[];
}

/** `valid_referers` of a location (ngx_http_referer_module), read by `$invalid_referer`. */
export interface RefererConf {
  /** `none`: no Referer header is valid. */
  readonly none: boolean;
  /** `blocked`: a Referer without `http://` / `https://` (or shorter than `http://i.ru`) is valid. */
  readonly blocked: boolean;
  /** Lower-cased host → the URI prefix it needs ('' for none). */
  readonly exact: ReadonlyMap<string, string>;
  /** `*.a.com` / `.a.com` as `.a.com` suffixes, longest first. */
  readonly head: readonly { readonly suffix: string; readonly uri: string }[];
  /** `www.a.*` as `www.a.` prefixes, longest first. */
  readonly tail: readonly { readonly prefix: string; readonly uri: string }[];
  /** `server_names`' `~regex` names, matched against the host. */
  readonly hostRegexes: readonly RegExp[];
  /** `~regex`, case-insensitive, matched against the Referer after its scheme. */
  readonly regexes: readonly RegExp[];
}

/** ngx_http_secure_link_module's conf of a location, read by `$secure_link`. */
export type SecureLinkConf =
  | { readonly mode: 'md5'; readonly variable: TemplateParts | null; readonly md5: TemplateParts | null }
  | { readonly mode: 'secret'; readonly secret: string };
