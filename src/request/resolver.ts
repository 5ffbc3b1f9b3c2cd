// nginx's `resolver`: names a cosocket connects to are looked up through the DNS servers the conf
// names (node:dns Resolver), not the system's, cached for the answer's TTL or `valid=`, with
// OpenResty's error texts. Without a resolver the system's lookup (getaddrinfo) is kept.
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import type { ResolverConf } from '../config/types.js';
import { resolveUnix, type ResolveLog } from './resolver-unix.js';

const resolvers = new Map<string, Resolver>();
const cache = new Map<string, { addrs: string[]; until: number }>();
let turn = 0;

function resolverFor(c: ResolverConf, timeoutMs: number): Resolver {
  const key = `${c.servers.join(',')}|${timeoutMs}`;
  let r = resolvers.get(key);
  if (!r) {
    r = new Resolver({ timeout: timeoutMs, tries: 1 });
    // `unix:PATH` servers are left out where the conf names DNS servers too (resolver-unix.ts)
    r.setServers(c.servers.filter((s) => !s.startsWith('unix:')));
    resolvers.set(key, r);
  }
  return r;
}

/** One address for `host` (rotating over the answers, as nginx does), or OpenResty's error text;
 *  `log`: the worker's error log, for what nginx's resolver logs there itself. */
export async function resolveHost(c: ResolverConf, timeoutMs: number, host: string, log?: ResolveLog): Promise<string | { error: string }> {
  if (net.isIP(host) !== 0) return host;
  if (c.servers.every((s) => s.startsWith('unix:'))) return resolveUnix(c.servers, (c.ipv4 ? 1 : 0) + (c.ipv6 ? 1 : 0), timeoutMs, host, log);
  const name = host.toLowerCase();
  const key = `${c.servers.join(',')}|${c.ipv4}|${c.ipv6}|${name}`;
  const now = Date.now();
  let hit = cache.get(key);
  if (!hit || hit.until <= now) {
    const res = resolverFor(c, timeoutMs);
    const addrs: string[] = [];
    let ttl = Infinity;
    try {
      const ask = async (kind: 4 | 6): Promise<void> => {
        try {
          const got = kind === 4 ? await res.resolve4(name, { ttl: true }) : await res.resolve6(name, { ttl: true });
          for (const a of got) { addrs.push(a.address); ttl = Math.min(ttl, a.ttl); }
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENODATA') throw e;
        }
      };
      const timer = new Promise<never>((_, reject) => setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' })), timeoutMs).unref());
      await Promise.race([(async () => { if (c.ipv4) await ask(4); if (c.ipv6) await ask(6); })(), timer]);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND') return { error: `${host} could not be resolved (3: Host not found)` };
      if (code === 'ETIMEOUT') return { error: `${host} could not be resolved (110: Operation timed out)` };
      return { error: `${host} could not be resolved (2: Server failure)` };
    }
    if (addrs.length === 0) return { error: `${host} could not be resolved (3: Host not found)` };
    hit = { addrs, until: now + (c.validMs ?? (ttl === Infinity ? 0 : ttl * 1000)) };
    cache.set(key, hit);
  }
  return hit.addrs[turn++ % hit.addrs.length]!;
}
