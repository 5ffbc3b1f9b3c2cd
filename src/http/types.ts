// The seam between the HTTP layer (node:http today) and the request pipeline.
// Only src/http/ knows node:http; the phases see an HttpExchange, so a faster parser
// can replace node:http later without touching them.

import type { ServerConf } from '../config/types.js';
import type { TlsInfo } from '../tls/info.js';
import type { CertRefusal } from '../tls/verify.js';

export interface HttpExchange {
  readonly method: string;
  /** The request target as received (`/a/b?x=1`). */
  readonly url: string;
  readonly httpVersion: string; // '1.1'
  /** The request line as received (up to its CR or LF), when the front kept its bytes: nginx's
   *  $request, also for a line it refused. */
  readonly requestLine?: string;
  /** Lower-cased header names; repeated headers as arrays (node's shape). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Header names and values as received, in order: [name, value, name, value, ...]. */
  readonly rawHeaders: readonly string[];
  readonly scheme: 'http' | 'https';
  /** The TLS session ($ssl_* variables), null over plain HTTP. */
  tlsInfo?(): TlsInfo | null;
  /** node:tls: ssl_verify_client's refusal of this request (the engine refuses it itself). */
  tlsRefusal?(server: ServerConf): CertRefusal | null;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The request body, read lazily; consuming it twice is an error. */
  readonly body: AsyncIterable<Uint8Array>;
  /**
   * The whole body when it already came with the request (the native engine's small bodies),
   * taken at once with no awaiting: the body then counts as read. null when it did not (read
   * `body` then) or when it was taken already.
   */
  takeWholeBody?(): Buffer | null;
  /**
   * False when no request header's name starts with "If-" (checked on the head as received,
   * without building `headers`); undefined when the exchange cannot tell cheaply.
   */
  readonly conditional?: boolean;
  /** True once the client went away before the response ended. */
  readonly aborted: boolean;
  /** HTTP/2: how the client broke the body off (set before the body's TRESTY_ERR_CLIENT_GONE):
   *  nginx's status for the request and its info lines, in order. */
  readonly bodyBreak?: { status: 400 | 499; line: string } | null;
  /** HTTP/2: where the lines nginx logs when the client resets the stream go (the request's log). */
  watchReset?(log: (line: string) => void): void;
  /** True once the client reset the connection (ECONNRESET): the errno of nginx's line for the
   *  failed write is 104, not 32 (out-result.ts). Undefined: not known (32). */
  readonly reset?: boolean;
  /** The answer is a static file's (static.ts): nginx's line for a client gone while it goes
   *  names the phase. Absent where the front does not log that line itself. */
  fileAnswer?(): void;
  /** True once the client closed its side (FIN): it may still read the answer (undefined: not known). */
  readonly clientEnded?: boolean;
  onAbort(cb: () => void): void;

  // The response. Header names keep the case given; values may repeat.
  readonly headersSent: boolean;
  writeHead(status: number, headers: ReadonlyArray<readonly [string, string]>): void;
  /** Resolves when the chunk may be followed by another (back-pressure). */
  write(chunk: Uint8Array | string): Promise<void> | void;
  /**
   * Puts what write() queued on the wire now (ngx.flush), not when the running JS returns:
   * nginx's flush writes at once, so a handler that then computes for a while has been heard.
   * Absent where write() already does (node:http's socket writes).
   */
  push?(): void;
  end(chunk?: Uint8Array | string): void;
  /** Ends the response abruptly (the connection is closed), so the client can tell it is incomplete. */
  destroy(): void;
  /**
   * Ends the request with nothing more written: no head if none went out yet, no end of a chunked
   * body; the connection waits for the next request. What nginx does after ngx.exit(N), 0 < N < 200.
   * Absent: the exchange cannot, and destroy() is used instead.
   */
  abandon?(): void;
  /**
   * Called before writeHead: the answer is nginx's special response for `status` (its error page,
   * or error_page's answer for it). No `100 Continue` goes before it (any other answer to an
   * Expect: 100-continue gets one first, as nginx's body discard sends it); for 400, 413, 414,
   * 495-497, 500 and 501 the answer closes the connection (`Connection: close`) and a request
   * pipelined behind it is not read. Absent where neither applies (h2).
   */
  special?(status: number): void;
  /**
   * Called before writeHead: the connection closes once this answer is out, its head unchanged
   * (`Connection: keep-alive`), and a request pipelined behind it is not served. nginx's
   * not-modified filter's 412 (its page goes, then the request ends as an error). Absent (h2): kept.
   */
  closeAfter?(): void;
  /**
   * Set by the front: the Content-Length is over the client_max_body_size of the location the
   * target maps to (the front logged it). The pipeline answers 413 once it has found the
   * location, so that the location's error_page applies (nginx's find-config phase).
   */
  bodyTooLarge?: boolean;
  /**
   * client_body_timeout (ms) of the location whose code reads the body, set when the body is
   * taken (request/body-of.ts): nginx applies the location's, not the server's. Unset: the server's.
   */
  bodyTimeout?: number;
  /**
   * The answer's Location was given as a URL (error_page's, `return`'s, `rewrite`'s,
   * ngx.redirect's), or the answer is proxied: nginx writes the Location (and a proxied
   * Last-Modified) in its header list, after Connection, where one it made absolute goes before
   * (head-order.ts).
   */
  lateLocation?: boolean;
  /** Whether the answer's Last-Modified is in nginx's header list (a handler's, a proxied one);
   *  undefined: as lateLocation. */
  lateModified?: boolean;
  /** The answer's Content-Length is a handler's: in nginx's header list, after Connection (head-order.ts). */
  lateLength?: boolean;
  /**
   * A Connection or Transfer-Encoding in the headers is a handler's: a line of nginx's header list.
   * The exchange still writes its own, frames the body and keeps the connection as without it.
   */
  handlerHops?: boolean;
  /** chunked_transfer_encoding off, called before writeHead: a body of unknown length goes out
   *  unframed and the connection closes after it (nginx). Absent where there are no chunks (h2). */
  noChunking?(): void;
  /**
   * add_trailer's lines, computed when the body ends (set before writeHead): a chunked HTTP/1.1
   * body ends with them (`0\r\nName: value\r\n\r\n`), an HTTP/2 stream sends them as its last
   * HEADERS frame; an answer with no chunks (a length, HTTP/1.0, HEAD) sends none.
   */
  trailers?: (() => ReadonlyArray<readonly [string, string]>) | null;
  /** Bytes of body sent so far (for $body_bytes_sent). */
  readonly bytesSent: number;
  /** Bytes of the response head as sent, status line to blank line ($bytes_sent adds them to the
   *  body's, as nginx counts); 0 before the head is made or where the exchange does not know. */
  readonly headBytes?: number;
  /** nginx's $request_length: bytes of the request line, the headers and the body as received;
   *  undefined where the exchange does not know them. */
  readonly requestLength?: number;
  /** nginx's connection number (`*N` in error-log lines): per worker, one more per connection.
   *  Undefined where the front does not number its connections. */
  readonly connection?: number;
  /** $connection_requests: requests begun on the connection, this one included. */
  readonly connectionRequests?: number;
  /** $pipe: the request was already read when the one before it ended (nginx's "p"). */
  readonly pipelined?: boolean;
  /** $connection_time: when the connection was accepted (ms since the epoch); or, where the
   *  front tells it cheaper (the native engine), its age when the request began (ms). */
  readonly connectionStart?: number;
  readonly connectionAgeMs?: number;
  /** The listen address the connection came on (`127.0.0.1:8080`, `0.0.0.0:80`), as nginx names a
   *  listening socket: the `server:` of a line about a timer the request made. Absent: the local address. */
  readonly listen?: string;
  /**
   * write() and end() have copied a Uint8Array chunk when they return (the native engine's
   * outbox), so its memory may be reused at once; otherwise the exchange may keep a reference.
   */
  readonly copiesChunks?: boolean;
  /**
   * writeHead's names and values go out as their bytes (latin1) and the body apart from them
   * (the native engine): a value above 0x7f then needs no string chunk turned into bytes first.
   */
  readonly headAsBytes?: boolean;
  /**
   * Takes the connection for ngx.req.socket(true): a head made but not sent yet goes out first;
   * from then on the exchange frames nothing, its bytes count in bytesSent, and the request ends
   * with the stream's close(). Absent: the front cannot give its connection away.
   */
  takeRaw?(): RawStream;
}

/**
 * The connection of a request, taken whole by ngx.req.socket(true): bytes both ways with no HTTP
 * framing (websockets). Reads pull what the client sent after the request's head as it comes
 * (an unread body first); writes go out as they are.
 */
export interface RawStream {
  /** The next bytes from the client; null once it closed its side (or the stream was closed). */
  read(): Promise<Uint8Array | null>;
  /** Resolves when more may be written (back-pressure); to false if the connection is gone. */
  write(b: Uint8Array): Promise<boolean> | boolean;
  /** Ends the connection once what was written has gone (no keep-alive after a raw socket). */
  close(): void;
  /** The connection failed or was closed. */
  readonly gone: boolean;
}

/** What the worker's pipeline exposes to the HTTP layer: one call per request. */
/** `dflt`: the default server of the address the request came on, whose merge_slashes nginx
 *  parses the URI with (before the Host picks `server`); `server` itself when not given. */
export type RequestHandler = (ex: HttpExchange, server: ServerConf, dflt?: ServerConf) => void;
