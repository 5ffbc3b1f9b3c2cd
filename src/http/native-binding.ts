// The native engine's addon (native/build/tresty_engine.node, built by `npm install` when a C
// compiler and Node's headers are there). Loaded once per process; null when it is not built, so
// tresty runs on node:http and says why.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ConfCheck } from '../tls/conf-commands.js';

export interface EngineStats {
  connections: number;
  idle: number;
  active: number;
  /** Bytes the engine holds for its connections (structs and buffers). */
  memory: number;
  connSize: number;
  /** events { multi_accept } as the engine was created with (1 on, 0 off). */
  multiAccept: number;
}

/** A stream of the addon's gzipOpen (given back to its pool at the end, or when collected). */
export type GzipHandle = { readonly __gzip: unique symbol };

export interface EngineBinding {
  listen(host: string, port: number, backlog: number): number;
  closeFd(fd: number): void;
  fdAddress(fd: number): [string, number] | null;
  /** multiAccept: 1 takes every pending connection per listener readiness (up to 64), 0 one. */
  create(inbox: Buffer, outbox: Buffer, onBatch: (bytes: number) => void, workerConnections: number, multiAccept?: number): void;
  /** name: the default server's first server_name, address: the listen address (both for error-log lines). */
  addListener(fd: number, index: number, settings: number[], server: number, name?: string, address?: string): void;
  flush(): void;
  /** Asks for a pass in the next loop turn; it writes what the outbox holds by then. */
  flushLater(): void;
  /** `timeout`: the location's client_body_timeout in ms (0: the server's). */
  bodyStart(id: number, limit: number, timeout: number): void;
  /** The servers' first server_names, numbered for serverOf (error-log `server:`). */
  serverNames?(names: string[]): void;
  /** On the wildcard listener JS numbers `index`: the default server (an index of serverNames) of
   *  each address other servers listen on by address, named before a request's Host is read. */
  addressNames?(index: number, pairs: Array<[string, number]>): void;
  /** The request on connection id is served by server `index` of serverNames (its Host chose it). */
  serverOf?(id: number, index: number): void;
  /** ngx.req.socket(true): the connection's bytes go to JS as they come, as body records (no
   *  HTTP parsing, length or limit), BODY_END at the client's EOF; no keep-alive after. */
  bodyRaw?(id: number): void;
  bodyPause(id: number): void;
  bodyResume(id: number): void;
  cut(id: number): void;
  pressure(id: number): number;
  localAddress(id: number): [string, number] | null;
  /** The peer's address as the engine's log lines name it (`unix:` for a unix socket), or null. */
  peerAddress?(id: number): string | null;
  /** The next connection number of the engine's counter, past `floor` (the numbers JS gave before). */
  nextNumber?(floor: number): number;
  stopAccepting(): void;
  closeIdle(): void;
  stats(): EngineStats;
  shutdown(): void;
  setRoutes?(plan: Buffer): void;
  /** fd joins the engine's epoll; each readiness becomes an IN_WAKE record (false: it cannot). */
  watch(fd: number): boolean;
  unwatch(fd: number): void;
  /** Every thread of the process onto these CPUs (worker_cpu_affinity), the NAME-poll threads onto pollerCpus if given (ffi_poller_cpu_affinity next): threads pinned, or -errno. */
  pinThreads(cpus: readonly number[], pollerCpus?: readonly number[]): number;
  /** ffi_poller_sched fifo: the NAME-poll threads to SCHED_FIFO, priority 1: pollers set, or -errno. */
  fifoPollers(): number;
  /** The CPUs this process may run on, ascending. */
  allowedCpus(): number[];
  /** server_tokens' name for the engine's Server header and pages (src/http/software.ts). */
  setSoftware(name: string, full: string): void;
  /** worker_rlimit_nofile: setrlimit(RLIMIT_NOFILE, n, n); 0 or -errno. */
  setNofile(n: number): number;
  /** worker_rlimit_core: setrlimit(RLIMIT_CORE, n, n); 0 or -errno. */
  setCore(bytes: number): number;
  /** Maps the master's stub_status page (native/engine/stat_napi.c): the engine counts there. */
  statusAttach?(path: string): ArrayBuffer;
  /** Upstream sockets in the engine's epoll (native/engine/upstream.h): id, or -errno. */
  upConnect(ip: string, port: number): number;
  /** Bytes still queued after the write (0: all sent), -1 for an unknown id. */
  upWrite(id: number, data: Uint8Array | string): number;
  upPause(id: number, paused: boolean): void;
  upClose(id: number): void;
  upCount(): number;
  /** Whether the addon was built with OpenSSL's headers (native/engine/tls.c). */
  tlsBuilt?(): boolean;
  /** Server `server`'s TLS context: PEM pairs, [minVersion, maxVersion, preferServerCiphers,
   *  sessionCache, sessionTimeoutS, tickets], ciphers, curve, DH PEM, 80 ticket key bytes, and
   *  ssl_verify_client's [mode (1 on, 2 optional, 3 optional_no_ca), depth, CA, trusted, CRL PEMs],
   *  and the DER OCSP response to staple. */
  tlsContext?(server: number, certs: Buffer[], keys: Buffer[], options: number[], ciphers: string, curve: string,
    dh: Buffer | null, ticketKeys: Buffer | null, verify?: [number, number, Buffer | null, Buffer | null, Buffer | null] | null,
    ocsp?: Buffer | null, conf?: string[] | null): void;
  /** ssl_conf_command's [name, value, ...] through SSL_CONF_cmd on a new server (client: true, a
   *  client) context: nginx's error for them, or null (native/engine/tls_conf.c). */
  tlsConfCheck?(client: boolean, conf: string[]): string | null;
  /** The listener JS numbers `index` is TLS; `server`: its default server's context. */
  tlsListener?(index: number, server: number): void;
  /** The server index (serverNames') of an SNI name on listener `index`, -1: the default's. */
  tlsSni?(choose: (index: number, dname: number, name: string) => number): void;
  /** One gzip member of `bytes` at `level` (1..9), made with a deflate stream the JS thread keeps. */
  gzip?(bytes: Uint8Array, level: number): Buffer;
  /** A gzip member made push by push (each a sync flush, the last with `end`), by a pooled stream. */
  gzipOpen?(level: number): GzipHandle;
  gzipPush?(handle: GzipHandle, bytes: Uint8Array, end: boolean): Buffer;
  /** A connection's TLS session for $ssl_* (tls/info.ts parseEngineTls), null when not TLS. */
  tlsInfo?(id: number): Buffer | null;
  /** LOG records carry the session too (an access log format reads $ssl_*); requests refused
   *  495-497 go to JS, their status in the REQ (an error_page takes them). */
  tlsFlags?(logInfo: boolean, refusalsToJs: boolean): void;
  /** ssl_certificate_by_js: `ask` is called inside a handshake (which then waits) on a server
   *  whose tlsContext options end in 1; it must not answer before it returns. */
  tlsCertHook?(ask: (id: number, server: number, name: string, statusRequest: boolean) => void): void;
  /** The handshake's answer: a PEM pair, none (the context's certificates), or a failure's reason,
   *  and the handler's DER staple (stapled when the client asked); false when that handshake is gone. */
  tlsCertDone?(id: number, cert: Buffer | null, key: Buffer | null, why: string | null, ocsp?: Buffer | null): boolean;
  /** ssl_stapling (native/engine/tls_ocsp_napi.c): the DER OCSP request of a certificate (PEM). */
  ocspRequest?(cert: Buffer, issuer: Buffer): Buffer;
  /** nginx's checks of a response: its nextUpdate (epoch s, -1: none), or throws nginx's text. */
  ocspCheck?(resp: Buffer, cert: Buffer, issuer: Buffer, chain: Buffer | null, trusted: Buffer | null, verify: boolean): number;
  /** `ask` is called inside a handshake that wants a staple when a fetch is due (the server's
   *  tlsContext options end in 1); it must not answer before it returns. */
  tlsOcspHook?(ask: (server: number, slot: number, cert: Buffer) => void): void;
  /** The fetch's answer: a response to staple until `valid` (null: keep the one before) and when
   *  to fetch again (epoch seconds). */
  tlsStaple?(server: number, slot: number, der: Buffer | null, valid: number, refresh: number): boolean;
}

/**
 * Where the addon is: native/build/ of the package (dist/src/http -> the package root), unless
 * TRESTY_ENGINE_PATH names another build (the sanitizer build of test/engine-fuzz.test.ts).
 */
export const ENGINE_PATH = process.env.TRESTY_ENGINE_PATH
  ?? fileURLToPath(new URL('../../../native/build/tresty_engine.node', import.meta.url));

let loaded: EngineBinding | null | undefined;
let why = '';

/**
 * The addon, or null (then `engineUnavailable()` says why). TRESTY_NO_NATIVE_ENGINE=1 acts as a
 * machine where it was not built (the tests of the fallback use it).
 */
export function loadEngine(): EngineBinding | null {
  if (loaded !== undefined) return loaded;
  if (process.env.TRESTY_NO_NATIVE_ENGINE === '1') {
    why = 'TRESTY_NO_NATIVE_ENGINE=1 is set';
    return (loaded = null);
  }
  if (!existsSync(ENGINE_PATH)) {
    why = `${ENGINE_PATH} is not built (it needs a C compiler and Node's headers: run "npm run build")`;
    return (loaded = null);
  }
  try {
    loaded = createRequire(import.meta.url)(ENGINE_PATH) as EngineBinding;
  } catch (e) {
    why = `${ENGINE_PATH} does not load: ${(e as Error).message}`;
    loaded = null;
  }
  return loaded;
}

/** The addon's check of ssl_conf_command's (tls/conf-commands.ts), or null without an addon with TLS. */
export function confCheck(): ConfCheck | null {
  const n = loadEngine();
  return n?.tlsConfCheck && n.tlsBuilt?.() ? (client, flat) => n.tlsConfCheck!(client, flat) : null;
}

export function engineUnavailable(): string {
  return why;
}
