// The native routes (native/engine/route.h): which locations the engine answers without JS, as
// a flat plan it reads once. Decided conservatively at conf load: a location gets a native answer
// only when the pipeline would answer it with no JS at all (no *_by_js handler in any phase, no
// rewrite op but a `return` with a constant text, nothing in its conf the engine does not know);
// its server must have no server-level rewrite ops and be alone on its listen socket.
import path from 'node:path';
import type { HttpConf, LocationConf, ServerConf } from '../config/types.js';
import { LF } from './native-flags.js';
import { extraFlags, extrasNative, writeExtras } from './native-plan-extras.js';
import { type Bind, planBinds, serverName } from './vhost.js';

const ACT_JS = 0;
const ACT_STATIC = 1;
const ACT_RETURN = 2;
const K_PREFIX = 0;
const K_EXACT = 1;
const K_NOREGEX = 2;

/** Conf keys the engine understands; any other key with a value sends the location to JS.
 *  `ssl` acts at the handshake (the engine's TLS contexts, or node:tls), never on an answer;
 *  `proxy` is checked apart: its settings always hold defaults, and only a proxy_pass of the
 *  location's own needs JS. */
const LOCATION_KEYS = new Set(['modifier', 'pattern', 'regex', 'ref', 'locations', 'rewriteOps', 'handlers', 'root', 'index',
  'defaultType', 'accessLog', 'clientMaxBodySize', 'keepaliveTimeout', 'jsCodeCache', 'engine', 'ssl', 'proxy', 'headers',
  // The engine never looks a name up: only JS (cosockets, proxy_pass) uses the resolver.
  'resolver', 'resolverTimeout',
  // The browser module's lists only serve its variables, which JS evaluates.
  'browser',
  // What native-plan-extras.ts checks.
  'gzip', 'files', 'tryFiles',
  // Of the std flags only server_tokens (LF.TOKENS); actionOf sends the others to JS.
  'std']);
const SERVER_KEYS = new Set(['ref', 'listen', 'serverNames', 'rewriteOps', 'locations', 'namedLocations', 'defaults',
  'declaredVariables', 'ssl']);

function empty(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (v instanceof Map || v instanceof Set) return v.size === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

function onlyKnown(o: object, known: ReadonlySet<string>): boolean {
  for (const [k, v] of Object.entries(o)) if (!known.has(k) && !empty(v)) return false;
  return true;
}

/** add_header lines the engine writes itself ([all, always]: every line in the configuration's
 *  order for nginx's list of statuses, the `always` ones for the others), or null when the location's
 *  header directives need JS: anything but add_header, a variable, a header nginx treats apart
 *  (Last-Modified and ETag replace the answer's own), bytes that cannot go in a head, or too many. */
function nativeHeaders(loc: LocationConf): [string, string] | null {
  // charset and expires: native-plan-extras.ts.
  const { add, charset: _c, expires: _e, ...rest } = loc.headers;
  if (Object.keys(rest).length > 0) return null;
  let listed = '';
  let always = '';
  for (const a of add ?? []) {
    const key = a.name.toLowerCase();
    if (a.value.includes('$') || key === 'last-modified' || key === 'etag' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(a.name)
      || /[\x00-\x08\x0a-\x1f\x7f]/.test(a.value)) return null;
    if (a.value === '') continue;
    const line = `${a.name}: ${a.value}\r\n`;
    // one string for the listed statuses keeps `always` lines in their place among the others
    listed += line;
    if (a.always) always += line;
  }
  return Buffer.byteLength(listed) > 512 ? null : [listed, always];
}

function actionOf(loc: LocationConf): number {
  if (Object.keys(loc.handlers).length > 0 || !onlyKnown(loc, LOCATION_KEYS) || loc.proxy.pass !== null) return ACT_JS;
  if (nativeHeaders(loc) === null || !extrasNative(loc)) return ACT_JS;
  for (const k of Object.keys(loc.std)) if (k !== 'serverTokens') return ACT_JS;
  const ops = loc.rewriteOps;
  if (ops.length === 0) return ACT_STATIC;
  const first = ops[0]!;
  // `return` ends the script: ops after it never run. A text with variables needs JS.
  if (first.op === 'return' && (first.text === undefined || !first.text.includes('$'))) return ACT_RETURN;
  return ACT_JS;
}

class Writer {
  private buf = Buffer.alloc(4096);
  private n = 0;
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const b = Buffer.alloc(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(b, 0, 0, this.n);
    this.buf = b;
  }
  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.n);
    this.n += 4;
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u32(b.length);
    this.room(b.length + 3);
    b.copy(this.buf, this.n);
    this.n += (b.length + 3) & ~3;
  }
  done(): Buffer { return this.buf.subarray(0, this.n); }
}

export interface NativePlan {
  readonly buf: Buffer;
  /** By id, as LOG records name them. */
  readonly locations: readonly LocationConf[];
  readonly servers: readonly ServerConf[];
  /** The plan's server index for a bind, or -1 when JS picks the server (several on it). */
  serverFor(bind: Bind): number;
}

export function buildPlan(http: HttpConf, builtinTypes: Readonly<Record<string, string>>): NativePlan {
  const ids = new Map<LocationConf, number>();
  const locs: LocationConf[] = [];
  const id = (l: LocationConf): number => {
    let i = ids.get(l);
    if (i === undefined) {
      i = locs.length;
      ids.set(l, i);
      locs.push(l);
      for (const c of l.locations) id(c);
    }
    return i;
  };
  // merge_slashes off: the engine merges slashes as it routes, so such a server is JS's, and so
  // are all the servers of an address whose default server has it off (nginx parses their URIs so).
  const unmerged = new Set<ServerConf>();
  for (const b of planBinds(http)) {
    for (const g of [b.any, ...b.byAddress.values()]) {
      if (g?.defaultServer.defaults.std.noMergeSlashes) for (const s of g.servers) unmerged.add(s);
    }
  }
  const servers = http.servers.filter((s) => s.rewriteOps.length === 0 && onlyKnown(s, SERVER_KEYS) && !s.defaults.std.noMergeSlashes && !unmerged.has(s));
  for (const s of servers) {
    id(s.defaults);
    for (const l of s.locations) id(l);
  }
  const w = new Writer();
  w.u32(1);
  const types = new Map<string, string>(Object.entries(builtinTypes));
  for (const [ext, t] of http.mimeTypes) types.set(ext, t);
  const sorted = [...types].sort(([a], [b]) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
  w.u32(sorted.length);
  for (const [ext, t] of sorted) { w.str(ext); w.str(t); }
  w.u32(locs.length);
  for (const l of locs) {
    w.u32(l.modifier === '=' ? K_EXACT : l.modifier === '^~' ? K_NOREGEX : K_PREFIX);
    const act = l.modifier === '~' || l.modifier === '~*' || l.modifier === '@' ? ACT_JS : actionOf(l);
    w.u32(act);
    w.str(l.pattern);
    writeChildren(w, l.locations, ids);
    w.str(path.resolve(l.root));
    w.u32(l.index.length);
    for (const ix of l.index) w.str(ix);
    w.str(l.defaultType);
    const logOn = l.accessLog.length > 0 && !l.accessLog.includes('off');
    const ret = l.rewriteOps[0];
    const text = ret?.op === 'return' ? ret.text : undefined;
    w.u32((logOn ? LF.LOG : 0) | (l.engine.sendfile ? LF.SENDFILE : 0) | (text !== undefined ? LF.HAS_TEXT : 0) | extraFlags(l)
      | (l.std.serverTokens ? LF.TOKENS : 0));
    w.u32(ret?.op === 'return' ? ret.code : 0);
    w.str(text ?? '');
    w.u32(l.keepaliveTimeout);
    const [listed, always] = nativeHeaders(l) ?? ['', ''];
    w.str(listed);
    w.str(always);
    writeExtras(w, l);
    // client_max_body_size: a body with a length within it may get a native answer (0: no limit).
    w.u32(Math.min(l.clientMaxBodySize, 0xffffffff));
  }
  w.u32(servers.length);
  for (const s of servers) {
    w.u32(ids.get(s.defaults)!);
    writeChildren(w, s.locations, ids);
    w.str(serverName(s));
  }
  const index = new Map(servers.map((s, i) => [s, i]));
  return {
    buf: w.done(),
    locations: locs,
    servers,
    serverFor(bind: Bind): number {
      const group = bind.byAddress.size === 0 ? bind.any : bind.any === null && bind.byAddress.size === 1 ? bind.byAddress.values().next().value! : null;
      if (!group || !group.single) return -1;
      return index.get(group.defaultServer) ?? -1;
    },
  };
}

/** has_regex, then the children that are not regexes: prefixes longest first (nginx's order). */
function writeChildren(w: Writer, list: readonly LocationConf[], ids: Map<LocationConf, number>): void {
  const plain = list.filter((l) => l.modifier === '' || l.modifier === '^~' || l.modifier === '=');
  w.u32(list.some((l) => l.modifier === '~' || l.modifier === '~*') ? 1 : 0);
  const ordered = [...plain.filter((l) => l.modifier === '=')]
    .concat(plain.filter((l) => l.modifier !== '=').sort((a, b) => b.pattern.length - a.pattern.length));
  w.u32(ordered.length);
  for (const l of ordered) w.u32(ids.get(l)!);
}
