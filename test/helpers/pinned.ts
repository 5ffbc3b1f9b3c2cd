// Keep-alive connections pinned to known workers. Which worker accepts a new connection is the
// kernel's race: on the native engine every worker is woken and the first awake accepts (as in
// nginx without accept_mutex), so a burst of fresh connections may all land on one worker, the
// more so on a loaded machine. A test that needs every worker to take part opens its connections
// first, keeps those that reached a worker still short of its share, and sends on them.
import http from 'node:http';
import { httpGet, type HttpResult } from './server.js';

export interface RequestOpts { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number }

export interface PinnedConn {
  /** The worker the connection is on (as the probe answered). */
  readonly pid: number;
  request(urlPath: string, opts?: RequestOpts): Promise<HttpResult>;
  close(): void;
}

/**
 * `perWorker` connections on each of `workers` workers. `probe` makes one request on a new
 * connection and returns the pid of the worker that answered it.
 */
export async function pinConns(port: number, o: {
  workers: number;
  perWorker: number;
  probe: (request: PinnedConn['request']) => Promise<number>;
  timeoutMs?: number;
}): Promise<PinnedConn[]> {
  const byPid = new Map<number, PinnedConn[]>();
  const all = (): PinnedConn[] => [...byPid.values()].flat();
  const full = (): boolean => byPid.size === o.workers && [...byPid.values()].every((l) => l.length >= o.perWorker);
  const deadline = Date.now() + (o.timeoutMs ?? 20_000);
  while (!full()) {
    if (Date.now() > deadline) {
      const got = [...byPid].map(([pid, l]) => `${pid}: ${l.length}`).join(', ');
      for (const c of all()) c.close();
      throw new Error(`could not open ${o.perWorker} connections on each of ${o.workers} workers (${got})`);
    }
    // A few at a time: a burst spreads better than one connection after another.
    const batch = await Promise.all(Array.from({ length: 4 }, async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const request: PinnedConn['request'] = (p, opts) => httpGet(port, p, { ...opts, agent });
      return { pid: await o.probe(request), request, close: () => agent.destroy() };
    }));
    for (const c of batch) {
      const list = byPid.get(c.pid) ?? [];
      if (list.length >= o.perWorker || (!byPid.has(c.pid) && byPid.size >= o.workers)) { c.close(); continue; }
      list.push(c);
      byPid.set(c.pid, list);
    }
  }
  return all();
}
