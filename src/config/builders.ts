// Mutable state built while walking the conf tree; resolve.ts merges and freezes it into
// the read-only types of types.ts.

import type {
  AccessLogSpec, CpuAffinity, EngineSettings, ErrorLogSpec, ErrorPageSpec, FfiPluginConf, HandlerSpec, IfCondition, ListenSpec, PhaseName,
  RewriteOp, ServerName, SharedDictConf, SourceRef, TryFilesSpec, WorkerUser, StdFlags, ResolverConf,
} from './types.js';
import type { ProxySettings, SslSettings, UpstreamBuilder } from './builders-gateway.js';
import type { LimitZoneConf, MapConf } from './types-access.js';
import type { AccessSettings } from './access-merge.js';
import type { OutputSettings } from './types-output.js';
import type { HeaderSettings } from './headers-merge.js';
import type { FilesSettings } from './directives-static.js';
import type { GzipSettings } from './directives-gzip.js';

/** Settings a location inherits from its server and http blocks when it does not set them. */
export interface LocSettings {
  root?: string;
  index?: string[];
  defaultType?: string;
  accessLog?: AccessLogSpec[];
  clientMaxBodySize?: number;
  keepaliveTimeout?: number;
  jsCodeCache?: boolean;
  errorPages?: Map<number, ErrorPageSpec>;
  engine?: Partial<{ -readonly [K in keyof EngineSettings]: EngineSettings[K] }>;
  handlers: Partial<Record<PhaseName, HandlerSpec>>;
  // gateway (issue 14): merged by gateway-merge.ts
  proxy?: ProxySettings;
  ssl?: SslSettings;
  // access modules: merged by access-merge.ts
  access?: AccessSettings;
  // limit_rate, recursive_error_pages (directives-conf2.ts)
  output?: OutputSettings;
  /** nginx's flags as written (false too, to override an outer block); see StdFlags. */
  std?: Partial<Record<keyof StdFlags, boolean>>;
  resolver?: ResolverConf | null;
  resolverTimeout?: number;
  /** add_header, expires, more_*: merged by headers-merge.ts */
  headers?: HeaderSettings;
  /** etag, if_modified_since, alias: merged by directives-static.ts */
  files?: FilesSettings;
  /** gzip_*: merged by directives-gzip.ts */
  gzip?: GzipSettings;
  /** secure_link, secure_link_md5, secure_link_secret as written in the block (directives-secure-link.ts). */
  secureLink?: import('./directives-secure-link.js').SecureLinkSettings;
  /** modern_browser, ancient_browser and their values as written (directives-browser.ts). */
  browser?: import('./directives-browser.js').BrowserSettings;
  /** valid_referers (directives-referer.ts); a block with its own replaces its parent's. */
  referers?: import('./directives-referer.js').RefererBuilder | null;
}

/**
 * An `if` block while the conf is walked: its ops, and for a location-level `if` the settings it
 * overrides (merged with its location's into a LocationConf by resolve.ts).
 */
export interface IfBuilder {
  readonly op: 'if';
  readonly cond: IfCondition;
  readonly ops: BuilderOp[];
  readonly loc: LocationBuilder | null;
  readonly ref: SourceRef;
}

/** A rewrite op as built: an `if` still holds its builder. */
export type BuilderOp = Exclude<RewriteOp, { op: 'if' }> | IfBuilder;

export interface LocationBuilder {
  modifier: '' | '=' | '^~' | '~' | '~*' | '@';
  pattern: string;
  regex?: RegExp;
  ref: SourceRef;
  settings: LocSettings;
  rewriteOps: BuilderOp[];
  locations: LocationBuilder[];
  tryFiles?: TryFilesSpec;
  internal?: boolean;
  /** `limit_except METHOD ... { ... }`: the methods let through and the block's access settings. */
  limitExcept?: { methods: string[]; settings: LocSettings };
}

export interface ServerBuilder {
  ref: SourceRef;
  listen: ListenSpec[];
  serverNames: ServerName[];
  settings: LocSettings;
  rewriteOps: BuilderOp[];
  locations: LocationBuilder[];
  named: Map<string, LocationBuilder>;
  variables: Set<string>;
}

export interface HttpBuilder {
  settings: LocSettings;
  servers: ServerBuilder[];
  logFormats: Map<string, string>;
  mimeTypes: Map<string, string>;
  rewriteNoPostpone?: boolean;
  accessNoPostpone?: boolean;
  maxPendingTimers?: number;
  maxRunningTimers?: number;
  engine?: 'native' | 'node';
  engineRef?: SourceRef;
  upstreams?: Map<string, UpstreamBuilder>;
  // access modules (directives-map.ts ...)
  maps?: Map<string, MapConf>;
  mapCaptures?: Set<string>;
  limitZones?: Map<string, LimitZoneConf>;
  limitUses?: { kind: 'req' | 'conn'; zone: string; ref: SourceRef }[];
  /** The http level's server_tokens (directives-std.ts). */
  serverTokens?: boolean;
  /** proxy_cache_path zones, and each proxy_cache naming one (checked at the end). */
  cacheZones?: Map<string, import('./types-cache.js').CacheZoneConf>;
  cacheUses?: { zone: string; ref: SourceRef }[];
  splitClients?: Map<string, import('./types-access.js').SplitClientsConf>;
  /** Where the http block ends (its `}`), for errors nginx finds when it merges. */
  end?: SourceRef;
  /** Variables declared at the http level (auth_request_set), added to every server's. */
  declared?: Set<string>;
}

export interface FfiPluginBuilder {
  name: string;
  ref: SourceRef;
  library?: string;
  config?: string;
  kind?: FfiPluginConf['kind'];
  symbol?: string;
  format?: FfiPluginConf['format'];
  maxQueue?: number;
  timeoutMs?: number;
  maxResponseSize?: number;
  blocking?: boolean;
  pythonPath?: string[];
  classPath?: string[];
}

export interface MainBuilder {
  workerProcesses?: number;
  errorLog: ErrorLogSpec[];
  pid?: string;
  daemon?: boolean;
  workerConnections?: number;
  multiAccept?: boolean;
  workerWatchdogTimeout?: number;
  workerCpuAffinity?: CpuAffinity;
  ffiPollerCpuAffinity?: { mode: 'same' | 'next'; ref: { file: string; line: number } };
  ffiPollerSched?: { mode: 'other' | 'fifo'; ref: { file: string; line: number } };
  workerPriority?: number;
  user?: WorkerUser;
  /** nginx's `[warn]` lines of the conf (a directive ignored, obsolete), with file and line. */
  warnings?: string[];
  workerRlimitNofile?: number;
  workerRlimitCore?: number;
  workingDirectory?: string;
  env?: Map<string, string>;
  workerShutdownTimeout?: number;
  http?: HttpBuilder;
  init?: HandlerSpec;
  initWorker?: HandlerSpec;
  jsPackagePath: string[];
  ffiLibraryPath: string[];
  ffiPlugins: Map<string, FfiPluginBuilder>;
  /** js_shared_dict zones, in conf order (made on the first one). */
  sharedDicts?: Map<string, SharedDictConf>;
}

/** `sif` / `lif`: an `if` block in a server / in a location (nginx's "server if", "location if"). */
export type BlockKind = 'main' | 'events' | 'http' | 'server' | 'location' | 'sif' | 'lif' | 'ffi_plugin' | 'types' | 'upstream'
  | 'limit_except';

/** Where the walk stands: the innermost block and the builders that enclose it. */
export interface BlockState {
  readonly kind: BlockKind;
  readonly main: MainBuilder;
  readonly http?: HttpBuilder;
  readonly server?: ServerBuilder;
  readonly location?: LocationBuilder;
  readonly plugin?: FfiPluginBuilder;
  readonly upstream?: UpstreamBuilder;
  /** The LocSettings of the innermost http/server/location block. */
  readonly settings?: LocSettings;
  /** The rewrite script of the innermost server/location/if block. */
  readonly rewriteOps?: BuilderOp[];
  /** Directive names (or duplicate keys) already set in this block. */
  readonly seen: Set<string>;
}

export function newSettings(): LocSettings {
  return { handlers: {} };
}
