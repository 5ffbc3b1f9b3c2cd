// The servers of an upstream block as one worker sees them, and nginx's ways of choosing one:
// smooth weighted round robin, least_conn, hash KEY [consistent] and ip_hash, with passive health
// checks (max_fails within fail_timeout takes a server out for fail_timeout) and backup servers
// used once every primary one is out. State is per worker, as in nginx without a `zone`.

import { crc32 } from 'node:zlib';
import type { UpstreamConf, UpstreamServerConf } from '../config/types.js';

export class Peer {
  currentWeight = 0;
  effectiveWeight: number;
  fails = 0;
  /** When the last failure happened / when the peer was last given a chance (ms). */
  accessed = 0;
  checked = 0;
  /** Requests in flight to this peer from this worker. */
  conns = 0;
  readonly weight: number;
  readonly maxFails: number;
  readonly failTimeout: number;
  readonly maxConns: number;
  readonly down: boolean;

  constructor(
    /** `host:port` as $upstream_addr prints it. */
    readonly name: string,
    readonly host: string,
    readonly port: number,
    s?: Partial<UpstreamServerConf>,
  ) {
    this.weight = s?.weight ?? 1;
    this.maxFails = s?.maxFails ?? 1;
    this.failTimeout = s?.failTimeout ?? 10_000;
    this.maxConns = s?.maxConns ?? 0;
    this.down = s?.down ?? false;
    this.effectiveWeight = this.weight;
  }

  /** Usable now: not down, not over max_conns, not disabled by recent failures. */
  usable(now: number): boolean {
    if (this.down) return false;
    if (this.maxConns > 0 && this.conns >= this.maxConns) return false;
    return !(this.maxFails > 0 && this.fails >= this.maxFails && now - this.checked <= this.failTimeout);
  }
}

export class PeerSet {
  readonly totalWeight: number;
  constructor(readonly peers: readonly Peer[], readonly backup: PeerSet | null) {
    this.totalWeight = peers.reduce((n, p) => n + p.weight, 0);
  }
  /** One server and no backup: nginx neither health-checks it nor retries it. */
  get single(): boolean { return this.peers.length === 1 && this.backup === null; }
  get count(): number { return this.peers.length + (this.backup?.peers.length ?? 0); }
}

/** What one request's tries have used so far. */
/**
 * The peers one request tried: a short array, not a Set (a request tries one peer, rarely a
 * few; a Set per proxied request was a measurable share of its cost).
 */
class Tried {
  private readonly list: Peer[] = [];
  has(p: Peer): boolean { return this.list.includes(p); }
  add(p: Peer): void { if (!this.list.includes(p)) this.list.push(p); }
}

export class Selection {
  set: PeerSet;
  readonly tried = new Tried();
  /** hash / ip_hash: the running hash and the rehash count. */
  hash = 0;
  rehash = 0;
  constructor(readonly primary: PeerSet, readonly key: string) { this.set = primary; }
}

export type Policy = UpstreamConf['policy'];

/** A consistent-hash ring: 160 points per unit of weight, as nginx's ketama-like ring. */
export class Ring {
  readonly points: Array<{ hash: number; peer: Peer }> = [];
  constructor(set: PeerSet) {
    for (const p of set.peers) {
      for (let j = 0; j < 160 * p.weight; j++) this.points.push({ hash: crc32(`${p.name}-${j}`), peer: p });
    }
    this.points.sort((a, b) => a.hash - b.hash);
  }
  /** Index of the first point at or after `hash` (wrapping). */
  find(hash: number): number {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]!.hash < hash) lo = mid + 1; else hi = mid;
    }
    return lo === this.points.length ? 0 : lo;
  }
}

/** Smooth weighted round robin among the set's usable, untried peers (nginx's get_peer). */
function roundRobin(sel: Selection, now: number, only?: (p: Peer) => boolean): Peer | null {
  let best: Peer | null = null;
  let total = 0;
  for (const p of sel.set.peers) {
    if (sel.tried.has(p) || !p.usable(now) || (only && !only(p))) continue;
    p.currentWeight += p.effectiveWeight;
    total += p.effectiveWeight;
    if (p.effectiveWeight < p.weight) p.effectiveWeight++;
    if (best === null || p.currentWeight > best.currentWeight) best = p;
  }
  if (best === null) return null;
  best.currentWeight -= total;
  return best;
}

function leastConn(sel: Selection, now: number): Peer | null {
  let best: Peer | null = null;
  let ties = 0;
  for (const p of sel.set.peers) {
    if (sel.tried.has(p) || !p.usable(now)) continue;
    // conns / weight, compared without division.
    if (best === null || p.conns * best.weight < best.conns * p.weight) { best = p; ties = 1; }
    else if (p.conns * best.weight === best.conns * p.weight) ties++;
  }
  if (best === null || ties === 1) return best;
  const b = best;
  return roundRobin(sel, now, (p) => p.conns * b.weight === b.conns * p.weight);
}

/** The peer `w` points at when peers are laid end to end by weight. */
function byWeight(set: PeerSet, w: number): Peer {
  for (const p of set.peers) {
    if (w < p.weight) return p;
    w -= p.weight;
  }
  return set.peers[set.peers.length - 1]!;
}

/** nginx's hash: Cache::Memcached-compatible, rehashed up to 20 times, then round robin. */
function hashPeer(sel: Selection, now: number): Peer | null {
  const set = sel.set;
  if (sel.key === '' || set.single) return roundRobin(sel, now);
  while (sel.rehash <= 20) {
    const h = crc32(sel.rehash > 0 ? `${sel.rehash}${sel.key}` : sel.key);
    sel.hash += (h >>> 16) & 0x7fff;
    sel.rehash++;
    const p = byWeight(set, sel.hash % set.totalWeight);
    if (!sel.tried.has(p) && p.usable(now)) return p;
  }
  return roundRobin(sel, now);
}

function consistentPeer(sel: Selection, ring: Ring, now: number): Peer | null {
  if (sel.key === '' || sel.set.single) return roundRobin(sel, now);
  const n = ring.points.length;
  let i = ring.find(crc32(sel.key)) + sel.rehash;
  for (let k = 0; k < 20 && sel.rehash < n; k++, i++, sel.rehash++) {
    const p = ring.points[i % n]!.peer;
    if (!sel.tried.has(p) && p.usable(now)) return p;
  }
  return roundRobin(sel, now);
}

/** nginx's ip_hash: the first three octets of an IPv4 address, the whole of an IPv6 one. */
function ipHashPeer(sel: Selection, now: number): Peer | null {
  const set = sel.set;
  if (set.single) return roundRobin(sel, now);
  const bytes = addrBytes(sel.key);
  if (sel.rehash === 0) sel.hash = 89;
  while (sel.rehash < 20) {
    for (const b of bytes) sel.hash = (sel.hash * 113 + b) % 6271;
    sel.rehash++;
    const p = byWeight(set, sel.hash % set.totalWeight);
    if (!sel.tried.has(p) && p.usable(now)) return p;
  }
  return roundRobin(sel, now);
}

function addrBytes(ip: string): number[] {
  if (ip.includes('.') && !ip.includes(':')) return ip.split('.').slice(0, 3).map(Number);
  return [...Buffer.from(ip)];
}

/**
 * The next peer for a request, or null when no server is usable (nginx: "no live upstreams").
 * Moves on to the backup servers once the primary ones are all out; when nothing is left, the
 * failure counts are cleared for a quick recovery, as nginx does.
 */
export function choose(sel: Selection, policy: Policy, ring: Ring | null, now: number): Peer | null {
  for (;;) {
    const set = sel.set;
    let p: Peer | null;
    if (set.single) {
      const only = set.peers[0]!;
      p = !sel.tried.has(only) && !only.down && !(only.maxConns > 0 && only.conns >= only.maxConns) ? only : null;
    } else if (policy === 'least_conn') p = leastConn(sel, now);
    else if (policy === 'hash') p = ring !== null && set === sel.primary ? consistentPeer(sel, ring, now) : hashPeer(sel, now);
    else if (policy === 'ip_hash') p = ipHashPeer(sel, now);
    else p = roundRobin(sel, now);
    if (p !== null) {
      sel.tried.add(p);
      if (now - p.checked > p.failTimeout) p.checked = now;
      p.conns++;
      return p;
    }
    if (set.backup !== null && set === sel.primary) {
      sel.set = set.backup;
      continue;
    }
    for (const q of sel.primary.peers) q.fails = 0;
    if (sel.primary.backup) for (const q of sel.primary.backup.peers) q.fails = 0;
    return null;
  }
}

/**
 * A try is over. `failed` counts against max_fails and lowers the peer's effective weight; a
 * success after the last check clears the failures. Returns true when this failure took the
 * peer out (for nginx's "upstream server temporarily disabled" warning).
 */
export function release(set: PeerSet, p: Peer, failed: boolean, now: number): boolean {
  p.conns--;
  if (set.single) return false;
  if (!failed) {
    if (p.accessed < p.checked) p.fails = 0;
    return false;
  }
  p.fails++;
  p.accessed = now;
  p.checked = now;
  if (p.maxFails > 0) p.effectiveWeight -= Math.floor(p.weight / p.maxFails);
  if (p.effectiveWeight < 0) p.effectiveWeight = 0;
  return p.maxFails > 0 && p.fails >= p.maxFails;
}
