// A `resolver unix:PATH` (nginx takes it: its resolver then sends its UDP queries on a unix
// datagram socket). A lookup through it tries the socket as nginx's connect() would and, as
// nginx, logs each query's failure at crit (`connect() failed (2: No such file or directory)
// while resolving, resolver: unix:PATH`, no request context) and fails once resolver_timeout has
// passed: `NAME could not be resolved (110: Operation timed out)` (observed on nginx 1.22 + lua).
// node cannot send datagrams on a unix socket: one that is a datagram socket is not asked either.
import net from 'node:net';
import type { LogLevel } from '../config/types.js';

let turn = 0;

/** Where the failures are logged (the worker's error log). */
export interface ResolveLog {
  log(level: LogLevel, message: string): void;
}

/** connect()'s errors as nginx words them (errno: strerror). */
const WORDS: Record<string, string> = {
  ENOENT: '2: No such file or directory',
  EACCES: '13: Permission denied',
  ENOTDIR: '20: Not a directory',
  ECONNREFUSED: '111: Connection refused',
  EPROTOTYPE: '91: Protocol wrong type for socket',
};

/** Why a datagram connect() to `path` fails (nginx's words), or null when it would not. */
function connectFailure(path: string): Promise<string | null> {
  return new Promise((resolve) => {
    // A stream connect tells the cases apart: a listening stream socket refuses a datagram one.
    const s = net.connect({ path });
    s.once('connect', () => { s.destroy(); resolve(WORDS.EPROTOTYPE!); });
    s.once('error', (e: NodeJS.ErrnoException) => {
      resolve(e.code === 'EPROTOTYPE' ? null : WORDS[e.code ?? ''] ?? `${e.errno === undefined ? '' : -e.errno}: ${e.message}`);
    });
  });
}

/** The lookup of `host` through unix-socket resolvers only: it fails, after `timeoutMs`. */
export async function resolveUnix(servers: readonly string[], queries: number, timeoutMs: number, host: string, log?: ResolveLog): Promise<{ error: string }> {
  const timer = new Promise<void>((done) => { setTimeout(done, timeoutMs).unref(); });
  // nginx sends each query (A, AAAA) to the next server in turn
  for (let q = 0; q < queries; q++) {
    const server = servers[(turn++) % servers.length]!;
    const why = await connectFailure(server.slice(5));
    if (why !== null) log?.log('crit', `connect() failed (${why}) while resolving, resolver: ${server}`);
  }
  await timer;
  return { error: `${host} could not be resolved (110: Operation timed out)` };
}
