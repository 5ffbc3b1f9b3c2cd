// ssl_stapling's fetches and their timing, as nginx's: a fetch starts when a handshake asks for a
// staple and the refresh time is past (never at start, and never more than one at a time per
// certificate); the handshake does not wait. A good response is stapled until its nextUpdate and
// fetched again an hour later (or 5 minutes before nextUpdate, but not sooner than in 5 minutes);
// a failure logs nginx's line (TRESTY_ERR_OCSP), keeps the staple it had while that is valid and
// retries after 5 minutes. OpenSSL (the engine's tls_ocsp.c) builds the request and checks the
// answer; ocsp-fetch.ts does the HTTP. The engine keeps its staples in C and asks through a hook
// (http/native-ocsp.ts); node:tls asks here through the server's OCSPRequest event.
import { TrestyError } from '../errors.js';
import type { ServerConf } from '../config/types.js';
import type { ErrorLog } from '../log/index.js';
import { askResponder, type OcspPeer } from './ocsp-fetch.js';
import type { StapleTarget } from './ocsp-plan.js';

/** The engine's OpenSSL helpers (native/engine/tls_ocsp_napi.c). */
export interface OcspTools {
  ocspRequest(cert: Buffer, issuer: Buffer): Buffer;
  /** nextUpdate in epoch seconds (-1: none); throws with nginx's text when it is not stapled */
  ocspCheck(resp: Buffer, cert: Buffer, issuer: Buffer, chain: Buffer | null, trusted: Buffer | null, verify: boolean): number;
}

/** A fetch's outcome: the response to staple until `valid` (null: keep the one before), and
 *  when to fetch again (epoch seconds). */
export interface StapleUpdate {
  readonly der: Buffer | null;
  readonly valid: number;
  readonly refresh: number;
}

const FOREVER = Number.MAX_SAFE_INTEGER;

/** nginx's 5 minutes (retry, margin) and hour (refresh), in seconds; TRESTY_STAPLING_TIMES=R,H
 *  shortens them for tests, which cannot wait an hour to see a refresh. */
function times(): [number, number] {
  const m = /^(\d+),(\d+)$/.exec(process.env.TRESTY_STAPLING_TIMES ?? '');
  return m ? [Number(m[1]), Number(m[2])] : [300, 3600];
}

/** Fetches and checks one certificate's response; never throws (a failure is logged). */
export async function fetchStaple(t: StapleTarget, tools: OcspTools, log: ErrorLog): Promise<StapleUpdate> {
  const now = Math.floor(Date.now() / 1000);
  const [retry, hour] = times();
  const peer: OcspPeer = { addr: null };
  try {
    const req = tools.ocspRequest(t.leafPem, t.issuerPem);
    const loc = t.server.defaults;
    const a = await askResponder(t.url, req, loc.resolver, loc.resolverTimeout, peer);
    if (a.status !== 200) throw new TrestyError('TRESTY_ERR_OCSP', `OCSP responder sent unexpected status ${a.status}`);
    const next = tools.ocspCheck(a.body, t.leafPem, t.issuerPem, t.chainPem, t.trustedPem, t.verify);
    const valid = next < 0 ? FOREVER : next;
    // nginx: before the response expires, but not sooner than in 5 minutes, and at least hourly
    return { der: a.body, valid, refresh: Math.max(Math.min(valid - retry, now + hour), now + retry) };
  } catch (e) {
    const where = `responder: ${t.url.hostname}${peer.addr !== null ? `, peer: ${peer.addr}` : ''}, certificate: "${t.certFile}"`;
    log.error(`${(e as Error).message} while requesting certificate status, ${where}`);
    return { der: null, valid: 0, refresh: now + retry };
  }
}

/** Staples per server block for node:tls. Its OCSPRequest event names no certificate here (the
 *  sockets get their context directly, not through Node's SNI), so each server's sockets get a
 *  tls.Server of their own to listen on (tls-front.ts), and a server's first fetchable certificate
 *  is the one stapled (Node staples one response per context). */
export class NodeStapler {
  private readonly byServer = new Map<ServerConf, { t: StapleTarget; der: Buffer | null; valid: number; refresh: number; loading: boolean }>();

  constructor(targets: readonly StapleTarget[], private readonly tools: OcspTools, private readonly log: ErrorLog) {
    for (const t of targets) {
      if (!this.byServer.has(t.server)) this.byServer.set(t.server, { t, der: null, valid: 0, refresh: 0, loading: false });
    }
  }

  has(s: ServerConf): boolean { return this.byServer.has(s); }

  /** The staple for a handshake on server `s`, or null; starts a fetch when one is due. */
  staple(s: ServerConf): Buffer | null {
    const e = this.byServer.get(s);
    if (e === undefined) return null;
    const now = Math.floor(Date.now() / 1000);
    const out = e.der !== null && e.valid >= now ? e.der : null;
    if (!e.loading && e.refresh < now) {
      e.loading = true;
      void fetchStaple(e.t, this.tools, this.log).then((u) => {
        if (u.der !== null) { e.der = u.der; e.valid = u.valid; }
        e.refresh = u.refresh;
        e.loading = false;
      });
    }
    return out;
  }
}
