// The upstreams of one worker: every `upstream {}` block, and the implicit one-server upstream
// nginx makes for `proxy_pass http://host:port`. Host names in server lines are resolved when
// the worker starts (one peer per address, as nginx does at load); a name that does not resolve
// stops the start with nginx's message.

import { promises as dns } from 'node:dns';
import net from 'node:net';
import { ConfError } from '../errors.js';
import type { SourceRef, UpstreamConf, UpstreamServerConf } from '../config/types.js';
import { Peer, PeerSet, Ring } from './peers.js';
import { KeepalivePool } from './pool.js';
import type { Template } from './request.js';

export interface UpstreamRt {
  readonly name: string;
  /** null for an implicit upstream (proxy_pass to a host:port) or a balancer's own peers. */
  readonly conf: UpstreamConf | null;
  readonly set: PeerSet;
  readonly ring: Ring | null;
  readonly pool: KeepalivePool | null;
  readonly hashKey: Template | null;
}

async function addresses(host: string, ref: SourceRef, what: string): Promise<string[]> {
  if (host.startsWith('unix:') || net.isIP(host) !== 0) return [host];
  try {
    // IPv4 addresses when the name has any (as `localhost` has both), else IPv6 ones.
    const all = await dns.lookup(host, { all: true });
    const v4 = all.filter((a) => a.family === 4);
    return (v4.length > 0 ? v4 : all).map((a) => a.address);
  } catch {
    throw new ConfError('TRESTY_ERR_CONF_VALUE', `host not found in upstream "${what}"`, ref.file, ref.line);
  }
}

function peerName(host: string, port: number): string {
  if (host.startsWith('unix:')) return host;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

async function peersOf(servers: readonly UpstreamServerConf[]): Promise<Peer[]> {
  const out: Peer[] = [];
  for (const s of servers) {
    for (const a of await addresses(s.host, s.ref, s.name)) out.push(new Peer(peerName(a, s.port), a, s.port, s));
  }
  return out;
}

export class Upstreams {
  private readonly byConf = new Map<UpstreamConf, UpstreamRt>();
  private readonly byName = new Map<string, UpstreamRt>();
  private readonly implicit = new Map<string, UpstreamRt>();

  constructor(private readonly confs: ReadonlyMap<string, UpstreamConf>, private readonly compile: (t: string) => Template) {}

  /** Builds every upstream block (resolving host names). */
  async init(): Promise<void> {
    for (const u of this.confs.values()) {
      if (this.byConf.has(u)) continue;
      const all = await peersOf(u.servers.filter((s) => !s.backup));
      const backup = await peersOf(u.servers.filter((s) => s.backup));
      const set = new PeerSet(all, backup.length > 0 ? new PeerSet(backup, null) : null);
      const rt: UpstreamRt = {
        name: u.name, conf: u, set,
        ring: u.policy === 'hash' && u.consistent && all.length > 0 ? new Ring(set) : null,
        pool: u.keepalive > 0 ? new KeepalivePool({
          max: u.keepalive, timeout: u.keepaliveTimeout, requests: u.keepaliveRequests, time: u.keepaliveTime,
        }) : null,
        hashKey: u.hashKey === null ? null : this.compile(u.hashKey),
      };
      this.byConf.set(u, rt);
      this.byName.set(u.name, rt);
    }
  }

  /** An upstream block by name (proxy_pass http://NAME). */
  named(name: string): UpstreamRt | undefined {
    return this.byName.get(name);
  }

  /** The implicit upstream of a static `proxy_pass http://host:port` (resolved once). */
  async fixed(host: string, port: number, ref: SourceRef, what: string): Promise<UpstreamRt> {
    const key = `${host}|${port}`;
    const known = this.implicit.get(key);
    if (known) return known;
    const peers = (await addresses(host, ref, what)).map((a) => new Peer(peerName(a, port), a, port));
    const rt: UpstreamRt = { name: what, conf: null, set: new PeerSet(peers, null), ring: null, pool: null, hashKey: null };
    this.implicit.set(key, rt);
    return rt;
  }

  /** A one-peer upstream for a URL built at run time (connect resolves a host name). */
  static adhoc(host: string, port: number): UpstreamRt {
    const name = peerName(host, port);
    return { name, conf: null, set: new PeerSet([new Peer(name, host, port)], null), ring: null, pool: null, hashKey: null };
  }

  close(): void {
    for (const rt of this.byConf.values()) rt.pool?.close();
  }
}
