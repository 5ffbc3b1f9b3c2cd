// Virtual servers: pick the server block by the address the request came in on, then by Host,
// as nginx does: exact name, longest `*.example.com`, longest `www.example.*`, the first
// matching `~regex` in conf order, else the `default_server` of that listen (or its first server).
import type { HttpConf, ListenSpec, ServerConf } from '../config/types.js';

export interface VhostGroup {
  readonly host: string; // '' = all addresses
  readonly port: number;
  readonly servers: readonly ServerConf[];
  readonly defaultServer: ServerConf;
  /** True when there is nothing to choose (one server): the hot path skips the Host lookup. */
  readonly single: boolean;
  readonly exact: ReadonlyMap<string, ServerConf>;
  readonly wildStart: readonly { suffix: string; dotted: boolean; server: ServerConf }[];
  readonly wildEnd: readonly { prefix: string; server: ServerConf }[];
  readonly regex: readonly { re: RegExp; server: ServerConf }[];
}

/** One socket to bind, with the groups of servers it carries. */
export interface Bind {
  readonly host: string; // '' = all IPv4 addresses, as nginx's `listen 80`
  readonly port: number;
  /** The wildcard group of this port, if any. */
  readonly any: VhostGroup | null;
  /** Servers listening on one address of this port, found by the socket's local address. */
  readonly byAddress: ReadonlyMap<string, VhostGroup>;
  /** A `listen ... ssl` [http2] socket (gateway, issue 14): served by tls-front.ts. */
  readonly ssl: boolean;
  readonly http2: boolean;
}

const key = (host: string, port: number): string => `${host}|${port}`;

function buildGroup(host: string, port: number, entries: { server: ServerConf; listen: ListenSpec }[]): VhostGroup {
  const servers = entries.map((e) => e.server);
  const defaultServer = entries.find((e) => e.listen.defaultServer)?.server ?? servers[0]!;
  const exact = new Map<string, ServerConf>();
  const wildStart: { suffix: string; dotted: boolean; server: ServerConf }[] = [];
  const wildEnd: { prefix: string; server: ServerConf }[] = [];
  const regex: { re: RegExp; server: ServerConf }[] = [];
  for (const server of servers) {
    for (const n of server.serverNames) {
      const v = n.value.toLowerCase();
      if (n.kind === 'regex') {
        regex.push({ re: n.regex ?? new RegExp(v.replace(/^~/, '')), server });
      } else if (n.kind === 'wildcard_start' || (n.kind === 'exact' && v.startsWith('.'))) {
        // `*.example.com` takes sub-domains only; `.example.com` takes example.com too.
        const dotted = v.startsWith('.');
        const suffix = dotted ? v : v.slice(1); // keep the leading dot: ".example.com"
        wildStart.push({ suffix, dotted, server });
        if (dotted && !exact.has(v.slice(1))) exact.set(v.slice(1), server);
      } else if (n.kind === 'wildcard_end') {
        wildEnd.push({ prefix: v.slice(0, -1), server }); // "www.example." from "www.example.*"
      } else if (!exact.has(v)) {
        exact.set(v, server); // the first server with a name keeps it, as nginx (it warns)
      }
    }
  }
  wildStart.sort((a, b) => b.suffix.length - a.suffix.length);
  wildEnd.sort((a, b) => b.prefix.length - a.prefix.length);
  return { host, port, servers, defaultServer, single: servers.length === 1, exact, wildStart, wildEnd, regex };
}

/**
 * The sockets to open for an http block. A port with a wildcard listen is bound once on all
 * addresses and servers of specific addresses are found by the local address (as nginx does
 * without `bind`); binding both would fail with EADDRINUSE.
 */
export function planBinds(http: HttpConf): Bind[] {
  const groups = new Map<string, { host: string; port: number; entries: { server: ServerConf; listen: ListenSpec }[] }>();
  for (const server of http.servers) {
    for (const listen of server.listen) {
      const k = key(listen.host, listen.port);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { host: listen.host, port: listen.port, entries: [] }));
      if (!g.entries.some((e) => e.server === server)) g.entries.push({ server, listen });
    }
  }
  const built = [...groups.values()].map((g) => buildGroup(g.host, g.port, g.entries));
  const wildcardPorts = new Set(built.filter((g) => g.host === '' || g.host === '0.0.0.0').map((g) => g.port));
  const binds: Bind[] = [];
  for (const g of built) {
    const isAny = g.host === '' || g.host === '0.0.0.0';
    if (isAny) {
      const byAddress = new Map<string, VhostGroup>();
      for (const o of built) if (o.port === g.port && o !== g && !(o.host === '' || o.host === '0.0.0.0')) byAddress.set(o.host, o);
      binds.push({ host: '', port: g.port, any: g, byAddress, ...tlsOf(http, g.port) });
    } else if (!wildcardPorts.has(g.port)) {
      binds.push({ host: g.host, port: g.port, any: null, byAddress: new Map([[g.host, g]]), ...tlsOf(http, g.port) });
    }
  }
  return binds;
}

/** A port is TLS (and HTTP/2) when any listen on it says so, as nginx merges listen options. */
function tlsOf(http: HttpConf, port: number): { ssl: boolean; http2: boolean } {
  const ls = http.servers.flatMap((s) => s.listen).filter((l) => l.port === port);
  return { ssl: ls.some((l) => l.ssl === true), http2: ls.some((l) => l.http2 === true) };
}

/** A listener's group before any address is known: its wildcard group, else its first. */
export function firstGroup(bind: Bind): VhostGroup {
  return bind.any ?? bind.byAddress.values().next().value!;
}

/** A server's first server_name as nginx's $server_name and the `server:` of its log lines: as
 *  written (a `*.` wildcard, a `~regex`), '' when it has none; `.example.com` without its dot. */
export function serverName(s: ServerConf): string {
  const v = s.serverNames[0]?.value ?? '';
  return v.charCodeAt(0) === 0x2e ? v.slice(1) : v;
}

/** The group a connection belongs to, by the address it was accepted on. */
export function groupFor(bind: Bind, localAddress: string | undefined): VhostGroup {
  if (bind.byAddress.size === 0) return bind.any!;
  const addr = localAddress?.startsWith('::ffff:') ? localAddress.slice(7) : localAddress ?? '';
  return bind.byAddress.get(addr) ?? firstGroup(bind);
}

/** Lower-cased host name of a Host header: no port, no trailing dot. */
export function normalizeHost(host: string): string {
  let h = host;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end > 0 ? h.slice(0, end + 1) : h;
  } else {
    const colon = h.indexOf(':');
    if (colon >= 0) h = h.slice(0, colon);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.toLowerCase();
}

export function selectServer(group: VhostGroup, hostHeader: string | undefined): ServerConf {
  if (group.single) return group.defaultServer;
  return namedServer(group, hostHeader === undefined ? '' : normalizeHost(hostHeader)) ?? group.defaultServer;
}

/** The server whose server_name matches `host` (normalised), or null (then: the default). A
 *  lone server on an address matches no name (nginx keeps no names for it). */
export function namedServer(group: VhostGroup, host: string): ServerConf | null {
  if (group.single) return null;
  const exact = group.exact.get(host);
  if (exact) return exact;
  if (host === '') return null;
  for (const w of group.wildStart) {
    if (host.endsWith(w.suffix) && host.length > w.suffix.length) return w.server;
  }
  for (const w of group.wildEnd) {
    if (host.startsWith(w.prefix) && host.length > w.prefix.length) return w.server;
  }
  for (const r of group.regex) if (r.re.test(host)) return r.server;
  return null;
}

/**
 * The match of the `~regex` server_name that chose `server` for `host` (normalised): nginx keeps
 * its captures as $1.. and its named groups as variables. Null when none of the server's regexes
 * matches, or when one of its other names does (nginx tries names before regexes).
 */
export function serverRegexMatch(server: ServerConf, host: string): RegExpExecArray | null {
  let m: RegExpExecArray | null = null;
  for (const n of server.serverNames) {
    const v = n.value;
    if (n.kind === 'regex') {
      if (m === null && n.regex !== undefined) m = n.regex.exec(host);
    } else if (n.kind === 'wildcard_start' || v.startsWith('.')) {
      const suffix = v.startsWith('.') ? v : v.slice(1);
      if ((host.endsWith(suffix) && host.length > suffix.length) || (v.startsWith('.') && host === v.slice(1))) return null;
    } else if (n.kind === 'wildcard_end') {
      if (host.startsWith(v.slice(0, -1)) && host.length > v.length - 1) return null;
    } else if (v === host) {
      return null;
    }
  }
  return m;
}

/** nginx's 421 case: the handshake's SNI name matched a server (`negotiated`, else '') and the
 *  request's Host (none: '') is another name. */
export function misdirected(negotiated: string, hostHeader: string | string[] | undefined): boolean {
  return negotiated !== '' && normalizeHost(typeof hostHeader === 'string' ? hostHeader : '') !== negotiated;
}
