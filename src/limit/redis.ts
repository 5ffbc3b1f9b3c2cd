// The Redis side of `policy: 'redis'`: one client per Redis per worker (node-redis's
// @redis/client), every limit update one Lua script run atomically by Redis on Redis's own clock
// (so machines with skewed clocks still share one bucket), each call bounded by a timeout, and
// failures reported once per interval. A Redis that is down makes calls fail at once (no queue
// of commands waiting for a reconnect); the client reconnects in the background.
import { createHash } from 'node:crypto';
import { formatErrorLine } from '../log/index.js';
import type { Resolved } from './options.js';

export interface Script { readonly src: string; readonly sha: string }

/** What RedisStore.run answers when Redis could not (a Redis nil is null). */
export const FAILED: unique symbol = Symbol('redis failed');

export function script(src: string): Script {
  return { src, sha: createHash('sha1').update(src).digest('hex') };
}

/** What tresty uses of a node-redis client. */
interface Client {
  readonly isReady: boolean;
  sendCommand(args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

class Connection {
  client: Client | null = null;
  private readonly ready: Promise<unknown>;

  constructor(readonly name: string, o: Resolved['redis']) {
    // Loaded here, not at import: a worker with only local limiters never loads the client.
    this.ready = import('@redis/client').then(({ createClient }) => {
      const common = {
        username: o.username,
        password: o.password,
        database: o.db,
        // A command on a lost connection fails now instead of waiting for the reconnect.
        disableOfflineQueue: true,
      };
      const socket = {
        connectTimeout: o.timeout,
        // Reconnect in the background, backing off to one try per 2 s while Redis is down.
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
      };
      const c = o.url
        ? createClient({ url: o.url, socket, ...common })
        : createClient({ socket: { ...socket, host: o.host ?? '127.0.0.1', port: o.port ?? 6379 }, ...common });
      // The client reports every failed reconnect here; the limiters report failures themselves.
      c.on('error', () => { /* counted per call */ });
      this.client = c as unknown as Client;
      return c.connect();
    }).catch(() => undefined);
  }

  /** Waits (bounded) for the first connection; later, a lost one fails calls at once. */
  async whenReady(timeoutMs: number): Promise<Client> {
    if (!this.client?.isReady) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.ready, new Promise((r) => { timer = setTimeout(r, timeoutMs); })]);
      clearTimeout(timer);
    }
    if (!this.client) throw new Error('the Redis client is not loaded yet');
    return this.client;
  }
}

const connections = new Map<string, Connection>();

class TimeoutError extends Error {}

/** The promise, or a TimeoutError after `ms` (a late answer is dropped by the client's queue). */
function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Throttled reports of one Redis's failures: the first at once, then at most one per interval. */
class FailureLog {
  private last = 0;
  private missed = 0;
  private failing = false;

  constructor(private readonly name: string, private readonly intervalMs: number) {}

  failure(e: Error, mode: string, log: (m: string) => void): void {
    const now = Date.now();
    if (this.failing && now - this.last < this.intervalMs) {
      this.missed++;
      return;
    }
    const more = this.missed > 0 ? ` (${this.missed} more failures since the last report)` : '';
    log(`tresty/limit: redis ${this.name} failed: ${e.message}; failing ${mode}${more}`);
    this.failing = true;
    this.last = now;
    this.missed = 0;
  }

  success(log: (m: string) => void): void {
    if (!this.failing) return;
    this.failing = false;
    log(`tresty/limit: redis ${this.name} answers again${this.missed > 0 ? ` (${this.missed} failures since the last report)` : ''}`);
    this.missed = 0;
  }
}

/** Where a limiter's lines go without a request to log them: stderr, in the error log's format. */
function stderrLog(message: string): void {
  process.stderr.write(formatErrorLine('error', message));
}

export class RedisStore {
  private readonly conn: Connection;
  private readonly failures: FailureLog;

  constructor(private readonly o: Resolved) {
    const r = o.redis;
    const name = r.url ? r.url.replace(/\/\/[^@/]*@/, '//') : `${r.host ?? '127.0.0.1'}:${r.port ?? 6379}`;
    const key = JSON.stringify([r.url, r.host, r.port, r.username, r.password, r.db, r.timeout]);
    let c = connections.get(key);
    if (!c) connections.set(key, (c = new Connection(name, r)));
    this.conn = c;
    this.failures = new FailureLog(name, o.logIntervalMs);
  }

  key(kind: string, dict: string, key: string): string {
    return `${this.o.redis.prefix}:${kind}:${dict}:${key}`;
  }

  /** Runs a script (EVALSHA, loading it on NOSCRIPT); FAILED when Redis failed (reported). */
  async run(s: Script, key: string, args: readonly (string | number)[], log?: (m: string) => void): Promise<unknown> {
    const out = this.o.log ?? log ?? stderrLog;
    const argv = args.map(String);
    const ms = this.o.redis.timeout;
    try {
      const c = await this.conn.whenReady(ms);
      let r: unknown;
      try {
        r = await bounded(c.sendCommand(['EVALSHA', s.sha, '1', key, ...argv]), ms);
      } catch (e) {
        if (!/NOSCRIPT/.test((e as Error).message)) throw e;
        r = await bounded(c.sendCommand(['EVAL', s.src, '1', key, ...argv]), ms);
      }
      this.failures.success(out);
      return r;
    } catch (e) {
      this.failures.failure(e as Error, this.o.fail, out);
      return FAILED;
    }
  }
}

/** Closes every Redis connection of this process (tests; a worker's exit closes them anyway). */
export async function closeRedis(): Promise<void> {
  const all = [...connections.values()];
  connections.clear();
  await Promise.all(all.map((c) => c.client?.close().catch(() => undefined)));
}
