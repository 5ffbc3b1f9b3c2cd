// A request node:http's parser refused, as the log phase sees it: what nginx has of it when it
// writes the access-log line for a refused request (the line as received, the headers read before
// the refusal, the status and the page's bytes). Nothing can be written to it: the front answered.
import type { HttpExchange } from './types.js';

export class RefusedExchange implements HttpExchange {
  bytesSent = 0;
  readonly rawHeaders: readonly string[] = [];
  readonly scheme = 'http' as const;
  readonly aborted = false;
  readonly headersSent = true;

  constructor(
    /** The request line as received ('' when none came). */
    readonly requestLine: string,
    readonly headers: Readonly<Record<string, string | undefined>>,
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly localAddress: string,
    readonly localPort: number,
    /** false: the client went before the line ended; nginx has no URI then ($request_uri "-"). */
    private readonly lineEnded = true,
  ) {}

  // nginx's parts of the line, cut at its first two spaces (its log of a refused line).
  get method(): string { return this.requestLine.split(' ', 1)[0] ?? ''; }
  get url(): string { return this.lineEnded ? this.requestLine.split(' ')[1] ?? '' : ''; }
  get httpVersion(): string { return /HTTP\/(\d\.\d)$/.exec(this.requestLine)?.[1] ?? '1.0'; }

  get body(): AsyncIterable<Uint8Array> { return (async function* () { /* no body */ })(); }
  onAbort(): void { /* answered already */ }
  writeHead(): void { /* answered already */ }
  write(): void { /* answered already */ }
  end(): void { /* answered already */ }
  destroy(): void { /* closed by the front */ }
}
