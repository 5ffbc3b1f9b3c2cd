// The resolved configuration: what the conf file means once parsed, validated, merged
// (inner blocks inherit from outer ones) and frozen. Every other module reads only this.

import type { GatewayPhase, ProxyConf, SslConf, UpstreamConf } from './types-gateway.js';
import type { HeadersConf } from './types-headers.js';
import type { FilesConf } from './types-static.js';
import type { GzipConf } from './types-gzip.js';

export type * from './types-gateway.js';
export type * from './types-cache.js';
export type * from './types-access.js';
import type { AccessConf, LimitZoneConf, MapConf, RefererConf, SecureLinkConf, SplitClientsConf } from './types-access.js';
import type { OutputConf } from './types-output.js';
export type * from './types-headers.js';
export type * from './types-static.js';
export type * from './types-gzip.js';

export const PHASES = [
  'init', 'init_worker', 'set', 'rewrite', 'access', 'content', 'header_filter', 'body_filter', 'log',
] as const;
export type PhaseName = (typeof PHASES)[number];

/** Where a directive stands, for messages that end `in FILE:LINE`. */
export interface SourceRef {
  readonly file: string;
  readonly line: number;
}

/** One `<phase>_by_js_block { ... }` or `<phase>_by_js_file path;`. */
export interface HandlerSpec {
  readonly phase: PhaseName | GatewayPhase;
  readonly source: 'block' | 'file';
  /** Inline JS/TS of a block. */
  readonly code?: string;
  /** Line of the conf where the block's first code line stands (for stack traces). */
  readonly codeLine?: number;
  /** Absolute path of a handler file. */
  readonly path?: string;
  readonly ref: SourceRef;
  /** set_by_js only: the variable it sets (without `$`) and its extra arguments (ngx.arg). */
  readonly variable?: string;
  readonly args?: readonly string[];
}

export interface ListenSpec {
  readonly host: string; // '' = all addresses
  readonly port: number;
  readonly defaultServer: boolean;
  readonly ref: SourceRef;
  // gateway (issue 14)
  readonly ssl?: boolean;
  readonly http2?: boolean;
}

export interface ServerName {
  readonly kind: 'exact' | 'wildcard_start' | 'wildcard_end' | 'regex';
  /** The name as written (lower-cased for exact and wildcards). */
  readonly value: string;
  readonly regex?: RegExp;
}

/**
 * nginx's rewrite-module script, run in order in the rewrite phase (server level: before the
 * location is found; location level: after). `value`/`text` are templates with `$var`s.
 */
export type RewriteOp =
  | { readonly op: 'set'; readonly variable: string; readonly value: string; readonly ref: SourceRef }
  | { readonly op: 'set_by_js'; readonly handler: HandlerSpec }
  | { readonly op: 'return'; readonly code: number; readonly text?: string; readonly ref: SourceRef }
  | {
    readonly op: 'rewrite'; readonly regex: RegExp; readonly replacement: string;
    /** The regex as written, for rewrite_log's lines. */
    readonly source: string;
    readonly flag: 'last' | 'break' | 'redirect' | 'permanent' | null; readonly ref: SourceRef;
  }
  | { readonly op: 'break'; readonly ref: SourceRef }
  | {
    readonly op: 'if'; readonly cond: IfCondition; readonly ops: readonly RewriteOp[];
    /** A location-level `if`: the settings that apply when it matches (nginx's "location if"). */
    readonly loc: LocationConf | null; readonly ref: SourceRef;
  };

/** The condition of `if (...)`; strings are templates with `$var`s. */
export type IfCondition =
  | { readonly kind: 'var'; readonly value: string }
  | { readonly kind: 'eq'; readonly negate: boolean; readonly left: string; readonly right: string }
  | { readonly kind: 'regex'; readonly negate: boolean; readonly left: string; readonly regex: RegExp; readonly source: string }
  | { readonly kind: 'file'; readonly negate: boolean; readonly test: 'f' | 'd' | 'e' | 'x'; readonly path: string };

/** `error_page CODE ... [=[RESPONSE]] URI|@name|URL`. */
export interface ErrorPageSpec {
  /** A template: `/uri`, `@name` or an absolute URL (a redirect). */
  readonly target: string;
  /** -1: keep the error's status; 0 (`=`): the target's own; N (`=N`): N. */
  readonly overwrite: number;
}

/** `try_files FILE ... URI|@name|=CODE`. */
export interface TryFilesSpec {
  /** Templates tried in order under `root`; one ending in `/` tests a directory. */
  readonly files: readonly string[];
  /** The last argument: `=CODE`, `@name` or a URI template. */
  readonly fallback: string;
}

export type AccessLogSpec = { readonly path: string; readonly format: string } | 'off';

/** The HTTP engine's connection settings (directives-http.ts), with nginx's defaults. */
export interface EngineSettings {
  readonly clientHeaderTimeout: number; // ms
  readonly clientBodyTimeout: number; // ms
  readonly sendTimeout: number; // ms
  readonly keepaliveRequests: number;
  /** http2_max_concurrent_streams: SETTINGS_MAX_CONCURRENT_STREAMS. */
  readonly http2MaxConcurrentStreams: number;
  /** http2_body_preread_size (bytes): SETTINGS_INITIAL_WINDOW_SIZE, a stream's body read ahead. */
  readonly http2BodyPrereadSize: number;
  readonly lingeringClose: 'on' | 'off' | 'always';
  readonly lingeringTime: number; // ms
  readonly lingeringTimeout: number; // ms
  readonly resetTimedoutConnection: boolean;
  readonly clientHeaderBufferSize: number; // bytes
  readonly largeClientHeaderBuffers: { readonly number: number; readonly size: number };
  readonly underscoresInHeaders: boolean;
  readonly ignoreInvalidHeaders: boolean;
  readonly sendfile: boolean;
}

/**
 * nginx's http flags where the conf departs from nginx's default (directives-std.ts); a key is
 * present only then, so a location using none of them stays on the native engine's fast path.
 */
export interface StdFlags {
  readonly relativeRedirect?: true; // absolute_redirect off
  readonly serverNameInRedirect?: true; // server_name_in_redirect on
  readonly noPortInRedirect?: true; // port_in_redirect off
  readonly noLogNotFound?: true; // log_not_found off
  readonly noChunked?: true; // chunked_transfer_encoding off
  readonly noMergeSlashes?: true; // merge_slashes off (http, server)
  readonly noUninitializedWarn?: true; // uninitialized_variable_warn off
  readonly logSubrequest?: true; // log_subrequest on
  readonly serverTokens?: true; // server_tokens on | build (tresty's default is off)
  readonly rewriteLog?: true; // rewrite_log on
}

/** `resolver ADDR ... [valid=T] [ipv4=on|off] [ipv6=on|off]`. */
export interface ResolverConf {
  /** `ip` or `ip:port` / `[ip6]:port`, as node:dns setServers takes them. */
  readonly servers: readonly string[];
  /** valid=: how long an answer is kept (ms), or null for its TTL. */
  readonly validMs: number | null;
  readonly ipv4: boolean;
  readonly ipv6: boolean;
}

export interface LocationConf extends AccessConf {
  /** '' prefix, '=' exact, '^~' prefix without regex, '~' / '~*' regex, '@' named. */
  readonly modifier: '' | '=' | '^~' | '~' | '~*' | '@';
  readonly pattern: string;
  readonly regex?: RegExp;
  readonly ref: SourceRef;
  /** Nested locations, in conf order. */
  readonly locations: readonly LocationConf[];
  /** Rewrite-module ops written in this location itself (not inherited, as in nginx). */
  readonly rewriteOps: readonly RewriteOp[];
  /** Effective phase handlers: this block's own, else the nearest enclosing block's. */
  readonly handlers: Readonly<Partial<Record<PhaseName, HandlerSpec>>>;
  readonly root: string;
  readonly index: readonly string[];
  readonly defaultType: string;
  readonly accessLog: readonly AccessLogSpec[];
  readonly clientMaxBodySize: number; // bytes, 0 = unlimited
  readonly keepaliveTimeout: number; // ms
  readonly jsCodeCache: boolean;
  /** error_page by status (inherited from outer blocks unless this one has its own). */
  readonly errorPages: ReadonlyMap<number, ErrorPageSpec>;
  /** try_files of this location (not inherited), or null. */
  readonly tryFiles: TryFilesSpec | null;
  /** The browser module's lists, for $modern_browser / $ancient_browser; null: none set. */
  readonly browser: import('./directives-browser.js').BrowserConf | null;
  /** valid_referers, for $invalid_referer; null: none (every Referer is valid). */
  readonly referers: RefererConf | null;
  /** secure_link / secure_link_md5 / secure_link_secret, for $secure_link; null: none. */
  readonly secureLink: SecureLinkConf | null;
  /** `internal`: reachable only by internal redirects, rewrites and subrequests. */
  readonly internal: boolean;
  readonly engine: EngineSettings;
  /** proxy_* (gateway, issue 14). */
  readonly proxy: ProxyConf;
  /** limit_rate, limit_rate_after, recursive_error_pages: empty when none differs from nginx's default. */
  readonly output: OutputConf;
  /** nginx's flags set away from their defaults (absolute_redirect off, ...). */
  readonly std: StdFlags;
  /** `resolver` (null: the system's lookup) and resolver_timeout (ms). */
  readonly resolver: ResolverConf | null;
  readonly resolverTimeout: number;
  /** add_header, expires, more_* (config/directives-headers.ts); {} when none applies. */
  readonly headers: HeadersConf;
  /** etag, if_modified_since, alias (config/directives-static.ts); {} when all are nginx's defaults. */
  readonly files: FilesConf;
  /** gzip, gzip_static (config/directives-gzip.ts); {} when neither applies. */
  readonly gzip: GzipConf;
}

export interface ServerConf {
  readonly ref: SourceRef;
  readonly listen: readonly ListenSpec[];
  readonly serverNames: readonly ServerName[];
  /** Server-level rewrite ops, run before the location is found. */
  readonly rewriteOps: readonly RewriteOp[];
  readonly locations: readonly LocationConf[];
  readonly namedLocations: ReadonlyMap<string, LocationConf>;
  /** The server block's own settings, used when no location matches (as nginx does). */
  readonly defaults: LocationConf;
  /** Variables a `set` or `set_by_js` declares anywhere in http{} (names without `$`): nginx's are the conf's, not a server's. */
  readonly declaredVariables: ReadonlySet<string>;
  /** ssl_* (gateway, issue 14): used when one of its listens has `ssl`. */
  readonly ssl: SslConf;
}

export interface FfiPluginConf {
  readonly name: string;
  /** Library name (`echo` → libecho.so on ffi_library_path) or a path. */
  readonly library: string;
  readonly config: string | null;
  readonly kind: 'runtime' | 'function';
  /** function libraries: the exported symbol to call. */
  readonly symbol?: string;
  readonly format: 'raw' | 'string' | 'json' | 'msgpack';
  readonly maxQueue: number;
  readonly timeoutMs: number;
  /** max_response_size: longer answers are refused with TRESTY_ERR_FFI_RESPONSE_TOO_LARGE. */
  readonly maxResponseSize: number;
  /** blocking off (function libraries): called on the event loop itself, no thread hand-off. */
  readonly blocking: boolean;
  /** python_path / class_path (absolute): handed to the Python / Java loader. */
  readonly pythonPath?: readonly string[];
  readonly classPath?: readonly string[];
  readonly ref: SourceRef;
}

/** `js_shared_dict NAME SIZE;`: a zone of memory shared by the master and every worker. */
export interface SharedDictConf {
  readonly name: string;
  readonly size: number; // bytes
  readonly ref: SourceRef;
}

export type LogLevel = 'debug' | 'info' | 'notice' | 'warn' | 'error' | 'crit' | 'alert' | 'emerg';

export interface ErrorLogSpec {
  readonly path: string; // absolute, or 'stderr'
  readonly level: LogLevel;
}

export interface HttpConf {
  readonly servers: readonly ServerConf[];
  /** `combined` is always present. */
  readonly logFormats: ReadonlyMap<string, string>;
  /** From `types { ... }`: lower-cased extension → MIME type (empty when the conf has none). */
  readonly mimeTypes: ReadonlyMap<string, string>;
  /** rewrite_by_js_no_postpone: rewrite_by_js runs before the rewrite-module ops, not after. */
  readonly rewriteNoPostpone: boolean;
  /** access_by_js_no_postpone: access_by_js runs before allow/deny, not after. */
  readonly accessNoPostpone: boolean;
  /** js_max_pending_timers / js_max_running_timers (OpenResty's lua_max_*_timers). */
  readonly maxPendingTimers: number;
  readonly maxRunningTimers: number;
  /** `http_engine`: undefined = native when it was built, else node:http. */
  readonly engine?: 'native' | 'node';
  /** Where `http_engine` is, for the error when the native engine it asks for is not built. */
  readonly engineRef?: SourceRef;
  /** `upstream NAME { ... }` blocks (gateway, issue 14). */
  readonly upstreams: ReadonlyMap<string, UpstreamConf>;
  /** `map` variables by name, and the named captures of their regexes (variables too). */
  readonly maps: ReadonlyMap<string, MapConf>;
  readonly mapCaptures: ReadonlySet<string>;
  /** split_clients variables by name (a later block of one name replaces the earlier, as nginx). */
  readonly splitClients: ReadonlyMap<string, SplitClientsConf>;
  /** limit_req_zone / limit_conn_zone by name. */
  readonly limitZones: ReadonlyMap<string, LimitZoneConf>;
  /** server_tokens at the http level: the version for answers no server or location decides
   *  (refusals before the request is read); a location's own is its std.serverTokens. */
  readonly serverTokens: boolean;
  /** proxy_cache_path zones by name (types-cache.ts). */
  readonly cacheZones: ReadonlyMap<string, import('./types-cache.js').CacheZoneConf>;
}

/**
 * worker_cpu_affinity: `auto` binds worker N to the N-th CPU (cycling) of `cpus`, or of the CPUs
 * the process may use when `cpus` is null; otherwise worker N gets `masks[N]`, the last mask
 * serving every worker past the list (as nginx does). A mask is the CPU numbers set in it.
 */
export type CpuAffinity =
  | { readonly auto: true; readonly cpus: readonly number[] | null }
  | { readonly auto: false; readonly masks: readonly (readonly number[])[] };

export interface WorkerUser {
  readonly user: string;
  readonly group: string;
  readonly uid: number;
  readonly gid: number;
}

export interface MainConf {
  /** Absolute path of the main conf file and the prefix (-p). */
  readonly file: string;
  readonly prefix: string;
  readonly workerProcesses: number;
  readonly errorLog: readonly ErrorLogSpec[];
  readonly pid: string;
  readonly daemon: boolean;
  readonly workerConnections: number;
  /** multi_accept: the native engine takes every pending connection per readiness (on), or one (off). */
  readonly multiAccept: boolean;
  /** worker_watchdog_timeout in ms: a worker whose event loop is blocked longer is replaced; 0 = off. */
  readonly workerWatchdogTimeout: number;
  /** worker_cpu_affinity, or null (workers float). */
  readonly workerCpuAffinity: CpuAffinity | null;
  /** ffi_poller_cpu_affinity: a bound worker's FFI pollers with it (`same`) or on the next worker's CPUs. */
  readonly ffiPollerCpuAffinity: 'same' | 'next';
  /** ffi_poller_sched: the pollers' scheduling policy, ordinary (`other`) or SCHED_FIFO on their worker's CPU. */
  readonly ffiPollerSched: 'other' | 'fifo';
  /** worker_priority: the workers' nice value (0 = unchanged). */
  readonly workerPriority: number;
  /** `user`: whom the workers run as (only when the master runs as root; else null). */
  readonly user: WorkerUser | null;
  /** The `[warn]` lines nginx gives for this conf (a `user` a non-root master ignores, an
   *  obsolete directive), each with its file and line: shown by `-t`, logged at start and reload. */
  readonly warnings: readonly string[];
  /** worker_rlimit_nofile (0 = unchanged). */
  readonly workerRlimitNofile: number;
  /** worker_rlimit_core in bytes (null = unchanged). */
  readonly workerRlimitCore: number | null;
  /** working_directory: where each worker runs (absolute; null = unchanged). */
  readonly workingDirectory: string | null;
  /** `env NAME=VALUE`: variables set in the workers. */
  readonly env: ReadonlyMap<string, string>;
  /** worker_shutdown_timeout in ms (0 = none: a graceful stop waits for every connection). */
  readonly workerShutdownTimeout: number;
  readonly http: HttpConf | null;
  readonly init?: HandlerSpec;
  readonly initWorker?: HandlerSpec;
  readonly jsPackagePath: readonly string[];
  readonly ffiLibraryPath: readonly string[];
  readonly ffiPlugins: ReadonlyMap<string, FfiPluginConf>;
  readonly sharedDicts: ReadonlyMap<string, SharedDictConf>;
}
