// The HTTP exchange with an OCSP responder, as nginx's: `GET /<base64 of the DER request>` over
// HTTP/1.0 with `Host: <host>` (no port), one address of the name (the conf's `resolver` when it
// has one, else the system's lookup, as nginx resolves at start), 60 s for the whole exchange and
// at most 16 KB of answer. Done in JS rather than in the engine: the resolver, the timers and the
// error log are here, and a responder is asked once an hour per certificate, so speed is moot.
// Failures are TRESTY_ERR_OCSP errors worded as nginx's log lines.
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import net from 'node:net';
import type { ResolverConf } from '../config/types.js';
import { TrestyError } from '../errors.js';

/** How a name is looked up through the conf's `resolver` (request/resolver.ts's resolveHost, set
 *  at worker start: this folder may not import that one). */
export type ResolveFn = (c: ResolverConf, timeoutMs: number, host: string) => Promise<string | { error: string }>;
let resolveHost: ResolveFn | null = null;
export function setOcspResolver(fn: ResolveFn): void { resolveHost = fn; }

const TIMEOUT_MS = 60_000;
const MAX_BODY = 16_384;

export interface OcspAnswer {
  readonly status: number;
  readonly body: Buffer;
}

/** Where the exchange went, for the log line's `peer:` (null before the name was resolved). */
export interface OcspPeer { addr: string | null }

const fail = (msg: string): TrestyError => new TrestyError('TRESTY_ERR_OCSP', msg);

function errnoText(e: NodeJS.ErrnoException): string {
  const n: Record<string, number> = { ECONNREFUSED: 111, ECONNRESET: 104, EHOSTUNREACH: 113, ENETUNREACH: 101, ETIMEDOUT: 110 };
  return `${n[e.code ?? ''] ?? 0}: ${e.code === 'ECONNREFUSED' ? 'Connection refused' : e.code === 'ECONNRESET' ? 'Connection reset by peer' : e.message}`;
}

async function address(host: string, resolver: ResolverConf | null, timeoutMs: number): Promise<string> {
  if (net.isIP(host) !== 0) return host;
  if (resolver !== null && resolveHost !== null) {
    const a = await resolveHost(resolver, timeoutMs, host);
    if (typeof a !== 'string') throw fail(`${host} could not be resolved (${a.error})`);
    return a;
  }
  try {
    return (await lookup(host)).address;
  } catch (e) {
    throw fail(`${host} could not be resolved (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Asks the responder at `url` about the DER OCSP request `req`. */
export async function askResponder(url: URL, req: Buffer, resolver: ResolverConf | null, resolverTimeoutMs: number,
  peer: OcspPeer): Promise<OcspAnswer> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port === '' ? 80 : Number(url.port);
  const addr = await address(host, resolver, resolverTimeoutMs);
  peer.addr = `${net.isIPv6(addr) ? `[${addr}]` : addr}:${port}`;
  // nginx: the URL's path, a slash, then the request in base64, escaped as a URI component
  const base = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const path = base + encodeURIComponent(req.toString('base64'));
  return new Promise((resolve, reject) => {
    const r = http.request({ host: addr, port, path, method: 'GET', agent: false, setHost: false, headers: { Host: host } }, (res) => {
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (b: Buffer) => {
        size += b.length;
        if (size > MAX_BODY) { r.destroy(fail('OCSP responder sent too long response')); return; }
        parts.push(b);
      });
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }); });
      res.on('aborted', () => reject(fail('OCSP responder prematurely closed connection')));
      res.on('error', (e) => reject(e instanceof TrestyError ? e : fail('OCSP responder prematurely closed connection')));
    });
    const timer = setTimeout(() => r.destroy(fail('OCSP responder timed out (110: Connection timed out)')), TIMEOUT_MS);
    timer.unref();
    r.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e instanceof TrestyError) reject(e);
      else if (e.code === 'HPE_INVALID_CONSTANT' || e.code?.startsWith('HPE_')) reject(fail('OCSP responder sent invalid response'));
      else if (e.code === 'ECONNRESET' && r.reusedSocket === false && r.socket?.bytesRead) reject(fail('OCSP responder prematurely closed connection'));
      else reject(fail(`recv() failed (${errnoText(e)})`));
    });
    r.end();
  });
}
