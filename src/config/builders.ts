// Mutable state built while walking the conf tree; resolve.ts merges and freezes it into
// the read-only types of types.ts.

import type {
  AccessLogSpec, ErrorLogSpec, FfiPluginConf, HandlerSpec, ListenSpec, PhaseName, RewriteOp, ServerName, SourceRef,
} from './types.js';
import type { ProxySettings, SslSettings, UpstreamBuilder } from './builders-gateway.js';

/** Settings a location inherits from its server and http blocks when it does not set them. */
export interface LocSettings {
  root?: string;
  index?: string[];
  defaultType?: string;
  accessLog?: AccessLogSpec[];
  clientMaxBodySize?: number;
  keepaliveTimeout?: number;
  jsCodeCache?: boolean;
  handlers: Partial<Record<PhaseName, HandlerSpec>>;
  // gateway (issue 14): merged by gateway-merge.ts
  proxy?: ProxySettings;
  ssl?: SslSettings;
}

export interface LocationBuilder {
  modifier: '' | '=' | '^~' | '~' | '~*' | '@';
  pattern: string;
  regex?: RegExp;
  ref: SourceRef;
  settings: LocSettings;
  rewriteOps: RewriteOp[];
  locations: LocationBuilder[];
}

export interface ServerBuilder {
  ref: SourceRef;
  listen: ListenSpec[];
  serverNames: ServerName[];
  settings: LocSettings;
  rewriteOps: RewriteOp[];
  locations: LocationBuilder[];
  named: Map<string, LocationBuilder>;
  variables: Set<string>;
}

export interface HttpBuilder {
  settings: LocSettings;
  servers: ServerBuilder[];
  logFormats: Map<string, string>;
  mimeTypes: Map<string, string>;
  upstreams?: Map<string, UpstreamBuilder>;
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
}

export interface MainBuilder {
  workerProcesses?: number;
  errorLog: ErrorLogSpec[];
  pid?: string;
  daemon?: boolean;
  workerConnections?: number;
  http?: HttpBuilder;
  init?: HandlerSpec;
  initWorker?: HandlerSpec;
  jsPackagePath: string[];
  ffiLibraryPath: string[];
  ffiPlugins: Map<string, FfiPluginBuilder>;
}

export type BlockKind = 'main' | 'events' | 'http' | 'server' | 'location' | 'ffi_plugin' | 'types' | 'upstream';

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
  /** The rewrite script of the innermost server/location block. */
  readonly rewriteOps?: RewriteOp[];
  /** Directive names (or duplicate keys) already set in this block. */
  readonly seen: Set<string>;
}

export function newSettings(): LocSettings {
  return { handlers: {} };
}
