// Walks the parse tree with the directive table, then merges inherited settings top-down
// and freezes the result (STYLE 8: validate once at the boundary, then freeze).

import path from 'node:path';
import { ACCESS_DEFAULTS, accessConf, type MergedAccess, mergeAccess } from './access-merge.js';
import type { Directive } from './ast.js';
import {
  type BlockState, type BuilderOp, type LocationBuilder, type LocSettings, type MainBuilder, newSettings, type ServerBuilder,
} from './builders.js';
import { coreDirectives } from './directives-core.js';
import { ffiDirectives } from './directives-ffi.js';
import { headerDirectives } from './directives-headers.js';
import { headersConf, mergeHeaders } from './headers-merge.js';
import { mergeFiles, staticDirectives } from './directives-static.js';
import { autoindexDirectives } from './directives-autoindex.js';
import { gzipConf, gzipDirectives, mergeGzip } from './directives-gzip.js';
import { ENGINE_DEFAULTS, httpDirectives } from './directives-http.js';
import { loaderDirectives } from './directives-loaders.js';
import { mapDirectives } from './directives-map.js';
import { accessDirectives, authDirectives, limitExceptDirectives } from './directives-access.js';
import { authRequestDirectives } from './directives-auth-request.js';
import { splitClientsDirectives } from './directives-split-clients.js';
import { refererConf, refererDirectives } from './directives-referer.js';
import { type MergedSecureLink, mergeSecureLink, SECURE_LINK_DEFAULTS, secureLinkConf, secureLinkDirectives } from './directives-secure-link.js';
import { checkLimitZones, limitDirectives } from './directives-limit.js';
import { cacheDirectives, checkCacheZones } from './directives-cache.js';
import { jsDirectives } from './directives-js.js';
import { rewriteDirectives } from './directives-rewrite.js';
import { sharedDirectives } from './directives-shared.js';
import { proxyDirectives } from './directives-proxy.js';
import { sslDirectives } from './directives-ssl.js';
import { sslVerifyDirectives } from './directives-ssl-verify.js';
import { sslRejectDirectives } from './directives-ssl-reject.js';
import { sslOcspDirectives } from './directives-ssl-ocsp.js';
import { sslStaplingDirectives } from './directives-ssl-stapling.js';
import { upstreamDirectives } from './directives-upstream.js';
import { conf2Directives, cookieDirectives } from './directives-conf2.js';
import { useridDirectives } from './directives-userid.js';
import { davDirectives } from './directives-dav.js';
import { BROWSER_DEFAULTS, type BrowserConf, browserDirectives, mergeBrowser } from './directives-browser.js';
import { unsupportedDirectives } from './directives-unsupported.js';
import { outputConf } from './types-output.js';
import { tuningDirectives } from './directives-tuning.js';
import { stdDirectives } from './directives-std.js';
import { processDirectives } from './directives-process.js';
import { http2CompatDirectives } from './directives-http2-compat.js';
import { mergeProxy, mergeSsl, proxyConf, sslConf, upstreamConf } from './gateway-merge.js';
import { unknownDirective } from './lua-hints.js';
import { stdFlags } from './directives-std.js';
import { confError, type DirectiveRow, type ResolveContext } from './table.js';
import { checkVarUses, newVarRegistry, type VarRegistry } from './var-registry.js';
import { recordVars } from './var-uses.js';
import type { EngineSettings, FfiPluginConf, FilesConf, HttpConf, ListenSpec, LocationConf, MainConf, RewriteOp, ServerConf } from './types.js';
import type { SslSettings } from './builders-gateway.js';

/** Rows by name; a name may have one row per context (`server` in http and in upstream). */
const TABLE: ReadonlyMap<string, readonly DirectiveRow[]> = [
  ...coreDirectives, ...jsDirectives, ...ffiDirectives, ...rewriteDirectives, ...httpDirectives, ...sharedDirectives,
  ...loaderDirectives, ...proxyDirectives, ...upstreamDirectives, ...sslDirectives, ...sslVerifyDirectives, ...sslRejectDirectives, ...sslStaplingDirectives, ...sslOcspDirectives,
  ...mapDirectives, ...splitClientsDirectives, ...refererDirectives, ...secureLinkDirectives, ...accessDirectives, ...authDirectives, ...authRequestDirectives, ...limitExceptDirectives, ...limitDirectives, ...cacheDirectives,
  ...tuningDirectives, ...stdDirectives, ...processDirectives, ...http2CompatDirectives,
  ...headerDirectives, ...staticDirectives, ...autoindexDirectives, ...gzipDirectives,
  ...conf2Directives, ...cookieDirectives, ...useridDirectives, ...browserDirectives, ...davDirectives, ...unsupportedDirectives,
].reduce((m, r) => m.set(r.name, [...(m.get(r.name) ?? []), r]), new Map<string, DirectiveRow[]>());

/** Every directive tresty knows, for docs and tests. */
export function directiveNames(): string[] {
  return [...TABLE.keys()];
}

function walk(directives: readonly Directive[], state: BlockState, ctx: ResolveContext, vars: VarRegistry): void {
  for (const d of directives) {
    const rows = TABLE.get(d.name);
    const row = rows?.find((r) => r.contexts.includes(state.kind)) ?? rows?.[0];
    if (!row) throw unknownDirective(d, (n) => TABLE.has(n));
    if (!row.contexts.includes(state.kind)) {
      throw confError('TRESTY_ERR_CONF_NOT_ALLOWED', `"${d.name}" directive is not allowed here`, d);
    }
    const hasBlock = d.block !== undefined || d.raw !== undefined;
    if (row.block && !hasBlock) throw confError('TRESTY_ERR_CONF_SYNTAX', `directive "${d.name}" has no opening "{"`, d);
    if (!row.block && hasBlock) throw confError('TRESTY_ERR_CONF_SYNTAX', `directive "${d.name}" is not terminated by ";"`, d);
    const [min, max] = row.args;
    if (d.args.length < min || d.args.length > max) {
      throw confError('TRESTY_ERR_CONF_ARGS', `invalid number of arguments in "${d.name}" directive`, d);
    }
    const key = row.dupKey ?? row.name;
    if (!row.multiple) {
      if (state.seen.has(key)) throw confError('TRESTY_ERR_CONF_DUPLICATE', `"${d.name}" directive is duplicate`, d);
      state.seen.add(key);
    }
    recordVars(vars, d); // before its block's, so uses stay in conf order
    row.apply(d, state, ctx);
  }
}

export function resolve(directives: readonly Directive[], prefix: string, file: string, lookupHost: (name: string) => string[]): MainConf {
  const main: MainBuilder = { errorLog: [], jsPackagePath: [], ffiLibraryPath: [], ffiPlugins: new Map() };
  const vars = newVarRegistry();
  const ctx: ResolveContext = {
    prefix,
    abs: (p) => path.resolve(prefix, p),
    confDir: path.dirname(path.resolve(prefix, file)),
    lookupHost,
    walk: (ds, state) => walk(ds, state, ctx, vars),
  };
  walk(directives, { kind: 'main', main, seen: new Set() }, ctx, vars);
  // As nginx, once the whole conf is read: a `set` after its use, or in another server, declares it.
  checkVarUses(vars);
  return deepFreeze(finish(main, prefix, file, ctx));
}

const ROOT_DEFAULTS = (abs: (p: string) => string): Omit<Merged, 'handlers'> => ({
  root: abs('html'),
  index: ['index.html'],
  defaultType: 'text/plain',
  accessLog: [{ path: abs('logs/access.log'), format: 'combined' }],
  clientMaxBodySize: 1024 * 1024,
  keepaliveTimeout: 75_000,
  jsCodeCache: true,
  errorPages: new Map(),
  engine: ENGINE_DEFAULTS,
  proxy: {},
  ssl: {},
  access: ACCESS_DEFAULTS,
  output: {},
  std: {},
  resolver: null, resolverTimeout: 30_000,
  headers: {},
  files: {},
  gzip: {},
  referers: null,
  secureLink: SECURE_LINK_DEFAULTS,
  browser: BROWSER_DEFAULTS,
});

type Merged = Required<Omit<LocSettings, 'handlers' | 'engine' | 'access' | 'files' | 'secureLink' | 'browser'>> & Pick<LocSettings, 'handlers'> & { engine: EngineSettings }
  & { access: MergedAccess; files: FilesConf; secureLink: MergedSecureLink; browser: BrowserConf };

function merge(parent: Merged, own: LocSettings): Merged {
  return {
    root: own.root ?? parent.root,
    index: own.index ?? parent.index,
    defaultType: own.defaultType ?? parent.defaultType,
    accessLog: own.accessLog ?? parent.accessLog,
    clientMaxBodySize: own.clientMaxBodySize ?? parent.clientMaxBodySize,
    keepaliveTimeout: own.keepaliveTimeout ?? parent.keepaliveTimeout,
    jsCodeCache: own.jsCodeCache ?? parent.jsCodeCache,
    // A block with error_page directives of its own replaces the inherited set (nginx's merge).
    errorPages: own.errorPages ?? parent.errorPages,
    engine: own.engine ? { ...parent.engine, ...own.engine } : parent.engine,
    handlers: { ...parent.handlers, ...own.handlers },
    proxy: mergeProxy(parent.proxy, own.proxy),
    ssl: mergeSsl(parent.ssl, own.ssl),
    access: own.access ? mergeAccess(parent.access, own.access) : parent.access,
    output: own.output ? { ...parent.output, ...own.output } : parent.output,
    std: own.std ? { ...parent.std, ...own.std } : parent.std,
    resolver: own.resolver ?? parent.resolver, resolverTimeout: own.resolverTimeout ?? parent.resolverTimeout,
    headers: mergeHeaders(parent.headers, own.headers),
    files: mergeFiles(parent.files, own.files, own.root !== undefined),
    gzip: mergeGzip(parent.gzip, own.gzip),
    referers: own.referers ?? parent.referers,
    secureLink: mergeSecureLink(parent.secureLink, own.secureLink),
    browser: mergeBrowser(parent.browser, own.browser),
  };
}

function finishLocation(b: LocationBuilder, parent: Merged): LocationConf {
  const m = merge(parent, b.settings);
  const { access, ...rest } = m;
  return {
    modifier: b.modifier, pattern: b.pattern, regex: b.regex, ref: b.ref, rewriteOps: finishOps(b.rewriteOps, m),
    ...rest, ...accessConf(access, b.limitExcept && { methods: b.limitExcept.methods, own: b.limitExcept.settings.access ?? {} }),
    tryFiles: b.tryFiles ?? null, internal: b.internal ?? false,
    proxy: proxyConf(m.proxy), std: stdFlags(m.std), headers: headersConf(m.headers), gzip: gzipConf(m.gzip),
    output: outputConf(m.output), referers: refererConf(m.referers ?? undefined), secureLink: secureLinkConf(m.secureLink),
    browser: m.browser === BROWSER_DEFAULTS ? null : m.browser,
    locations: b.locations.map((l) => finishLocation(l, m)),
  };
}

/** A location `if` becomes a LocationConf over its location's merged settings (nginx's "location if"). */
function finishOps(ops: readonly BuilderOp[], m: Merged): RewriteOp[] {
  return ops.map((op): RewriteOp => (op.op !== 'if' ? op : {
    op: 'if', cond: op.cond, ref: op.ref, ops: finishOps(op.ops, m),
    loc: op.loc === null ? null : finishLocation(op.loc, m),
  }));
}

function finishServer(b: ServerBuilder, parent: Merged, declared: ReadonlySet<string>): ServerConf {
  const m = merge(parent, b.settings);
  const { access, ...rest } = m;
  const defaults: LocationConf = {
    modifier: '', pattern: '', ref: b.ref, rewriteOps: [], locations: [], ...rest, ...accessConf(access), tryFiles: null, internal: false,
    proxy: proxyConf(m.proxy), std: stdFlags(m.std), headers: headersConf(m.headers), gzip: gzipConf(m.gzip),
    output: outputConf(m.output), referers: refererConf(m.referers ?? undefined), secureLink: secureLinkConf(m.secureLink),
    browser: m.browser === BROWSER_DEFAULTS ? null : m.browser,
  };
  const given = b.listen.length > 0 ? b.listen
    : [{ host: '', port: process.getuid?.() === 0 ? 80 : 8000, defaultServer: false, ref: b.ref }];
  const listen = m.ssl?.enable ? sslOn(given, m.ssl) : given;
  return {
    ref: b.ref, listen,
    serverNames: b.serverNames.length > 0 ? b.serverNames : [{ kind: 'exact', value: '' }],
    rewriteOps: finishOps(b.rewriteOps, m), defaults, declaredVariables: declared, ssl: sslConf(m.ssl),
    locations: b.locations.map((l) => finishLocation(l, m)),
    namedLocations: new Map([...b.named].map(([k, l]) => [k, finishLocation(l, m)])),
  };
}

/** `ssl on` (deprecated): the server's listens are TLS, and it needs a certificate, as on nginx. */
function sslOn(listen: readonly ListenSpec[], ssl: SslSettings): ListenSpec[] {
  if ((ssl.certificates ?? []).length === 0 && !ssl.certificateHandler && ssl.enableRef) {
    throw confError('TRESTY_ERR_CONF_VALUE', 'no "ssl_certificate" is defined for the "ssl" directive', ssl.enableRef);
  }
  return listen.map((l) => ({ ...l, ssl: true }));
}

function checkDefaultServers(servers: readonly ServerConf[]): void {
  const seen = new Map<string, true>();
  for (const s of servers) {
    for (const l of s.listen) {
      if (!l.defaultServer) continue;
      const key = `${l.host || '0.0.0.0'}:${l.port}`;
      if (seen.has(key)) throw confError('TRESTY_ERR_CONF_DUPLICATE', `a duplicate default server for ${key}`, l.ref);
      seen.set(key, true);
    }
  }
}

function finish(main: MainBuilder, prefix: string, file: string, ctx: ResolveContext): MainConf {
  let http: HttpConf | null = null;
  if (main.http) {
    const base: Merged = { ...ROOT_DEFAULTS(ctx.abs), handlers: {} };
    const top = merge(base, main.http.settings ?? newSettings());
    // Variables an http-level directive declares (auth_request_set) are every server's.
    for (const v of main.http.declared ?? []) for (const s of main.http.servers) s.variables.add(v);
    // A `set` declares its variable for all of http{} (nginx's variables are the conf's, not a
    // server's): another server may write it with ngx.var, and reads it empty until then.
    const declared = new Set(main.http.servers.flatMap((s) => [...s.variables]));
    const servers = main.http.servers.map((s) => finishServer(s, top, declared));
    checkDefaultServers(servers);
    const logFormats = new Map(main.http.logFormats);
    logFormats.set('combined',
      '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"');
    const h = main.http;
    checkLimitZones(h);
    checkCacheZones(h);
    const upstreams = new Map([...h.upstreams ?? []].map(([k, u]) => [k, upstreamConf(u)]));
    http = {
      servers, logFormats, mimeTypes: h.mimeTypes, engine: h.engine, engineRef: h.engineRef, upstreams,
      rewriteNoPostpone: h.rewriteNoPostpone ?? false, accessNoPostpone: h.accessNoPostpone ?? false,
      maxPendingTimers: h.maxPendingTimers ?? 1024, maxRunningTimers: h.maxRunningTimers ?? 256,
      maps: h.maps ?? new Map(), mapCaptures: h.mapCaptures ?? new Set(), splitClients: h.splitClients ?? new Map(), limitZones: h.limitZones ?? new Map(),
      serverTokens: h.serverTokens ?? false, cacheZones: h.cacheZones ?? new Map(),
    };
  }
  const ffiPlugins = new Map<string, FfiPluginConf>();
  for (const [name, p] of main.ffiPlugins) {
    ffiPlugins.set(name, {
      name, library: p.library ?? name, config: p.config ?? null, kind: p.kind ?? 'runtime', symbol: p.symbol,
      format: p.format ?? 'string', maxQueue: p.maxQueue ?? 65536, timeoutMs: p.timeoutMs ?? 60_000, ref: p.ref,
      maxResponseSize: p.maxResponseSize ?? 16 * 1024 * 1024, blocking: p.blocking ?? true,
      pythonPath: p.pythonPath, classPath: p.classPath,
    });
  }
  return {
    file, prefix,
    workerProcesses: main.workerProcesses ?? 1,
    errorLog: main.errorLog.length > 0 ? main.errorLog : [{ path: ctx.abs('logs/error.log'), level: 'error' }],
    pid: main.pid ?? ctx.abs('logs/tresty.pid'),
    daemon: main.daemon ?? false,
    workerConnections: main.workerConnections ?? 512,
    multiAccept: main.multiAccept ?? false,
    workerWatchdogTimeout: main.workerWatchdogTimeout ?? 0,
    workerCpuAffinity: main.workerCpuAffinity ?? null,
    ffiPollerCpuAffinity: pollerAffinity(main),
    ffiPollerSched: pollerSched(main),
    workerPriority: main.workerPriority ?? 0,
    user: main.user ?? null, warnings: main.warnings ?? [],
    workerRlimitNofile: main.workerRlimitNofile ?? 0, env: main.env ?? new Map(),
    workerRlimitCore: main.workerRlimitCore ?? null, workingDirectory: main.workingDirectory ?? null,
    workerShutdownTimeout: main.workerShutdownTimeout ?? 0,
    http,
    init: main.init, initWorker: main.initWorker,
    jsPackagePath: main.jsPackagePath, ffiLibraryPath: main.ffiLibraryPath, ffiPlugins,
    sharedDicts: main.sharedDicts ?? new Map(),
  };
}

function deepFreeze<T>(o: T): T {
  if (o === null || typeof o !== 'object' || Object.isFrozen(o) || o instanceof RegExp || ArrayBuffer.isView(o)) return o;
  if (o instanceof Map || o instanceof Set) {
    for (const v of o.values()) deepFreeze(v);
    return o;
  }
  Object.freeze(o);
  for (const v of Object.values(o)) deepFreeze(v);
  return o;
}

/** ffi_poller_cpu_affinity: `next` is relative to the workers' binding, so it needs one. */
function pollerAffinity(main: MainBuilder): 'same' | 'next' {
  const p = main.ffiPollerCpuAffinity;
  if (p?.mode === 'next' && !main.workerCpuAffinity) {
    throw confError('TRESTY_ERR_CONF_VALUE', '"ffi_poller_cpu_affinity next" needs "worker_cpu_affinity"', p.ref);
  }
  return p?.mode ?? 'same';
}

/**
 * ffi_poller_sched fifo: a real-time poller must share its worker's one CPU. On a CPU of its own it
 * would preempt whatever runs there (another worker: measured slower), and a worker with several
 * CPUs would let the spin gate open for a poller no ordinary thread can preempt.
 */
function pollerSched(main: MainBuilder): 'other' | 'fifo' {
  const p = main.ffiPollerSched;
  if (p?.mode !== 'fifo') return 'other';
  const refuse = (why: string): never => {
    throw confError('TRESTY_ERR_CONF_VALUE', `"ffi_poller_sched fifo" ${why}`, p.ref);
  };
  const aff = main.workerCpuAffinity;
  if (!aff) refuse('needs "worker_cpu_affinity"');
  else if (!aff.auto && aff.masks.some((m) => m.length !== 1)) refuse('needs one CPU per "worker_cpu_affinity" mask');
  if (main.ffiPollerCpuAffinity?.mode === 'next') refuse('cannot be used with "ffi_poller_cpu_affinity next"');
  return 'fifo';
}
