// Small upstream servers for the proxy tests, in the test process, on free ports. Each counts
// its connections and requests so keep-alive reuse can be seen from the upstream's side, and
// answers by a handler the test gives (default: an echo of what it received, as JSON).
//
//   const up = await startUpstream();                  // echo
//   const up = await startUpstream((req, res) => { res.statusCode = 503; res.end('no'); });
//   up.port, up.connections, up.requests, up.seen (the last requests), await up.close()
import http from 'node:http';
import net from 'node:net';

export interface Seen {
  method: string;
  url: string;
  httpVersion: string;
  /** Header names and values as received. */
  rawHeaders: string[];
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
  body: string;
}

export interface Upstream {
  readonly port: number;
  readonly name: string;
  /** TCP connections accepted so far. */
  connections: number;
  requests: number;
  readonly seen: Seen[];
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void;

/** Echoes the request as JSON: { name, method, url, httpVersion, headers, rawHeaders, bodyBytes }. */
export const echo = (name: string): Handler => (_req, res, seen) => {
  const text = JSON.stringify({ name, ...seen, body: undefined });
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('X-Upstream', name);
  res.end(text);
};

/** An http upstream; the body is read (and counted) before `handler` runs unless `streamBody`. */
export function startUpstream(handler?: Handler, opts: { name?: string; streamBody?: boolean } = {}): Promise<Upstream> {
  const name = opts.name ?? 'up';
  const h = handler ?? echo(name);
  const seen: Seen[] = [];
  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    up.requests++;
    const s: Seen = {
      method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, rawHeaders: req.rawHeaders,
      headers: req.headers, bodyBytes: 0, body: '',
    };
    seen.push(s);
    if (seen.length > 100) seen.shift();
    if (opts.streamBody) { h(req, res, s); return; }
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => { s.bodyBytes += d.length; if (s.bodyBytes <= 65536) chunks.push(d); });
    req.on('end', () => { s.body = Buffer.concat(chunks).toString(); h(req, res, s); });
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (c: net.Socket) => {
    up.connections++;
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  const up: Upstream = {
    port: 0, name, connections: 0, requests: 0, seen,
    close: () => new Promise<void>((resolve) => {
      for (const c of sockets) c.destroy();
      server.close(() => resolve());
    }),
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      (up as { port: number }).port = (server.address() as net.AddressInfo).port;
      resolve(up);
    });
  });
}

/** A raw TCP upstream: `onSocket` decides what to do with each connection (reset, hang, garbage). */
export function startRaw(onSocket: (s: net.Socket) => void): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    out.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => { /* resets are the point */ });
    onSocket(s);
  });
  const out = {
    port: 0, connections: 0,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); srv.close(() => resolve()); }),
  };
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => {
      out.port = (srv.address() as net.AddressInfo).port;
      resolve(out);
    });
  });
}

/** Waits (bounded) until `read()` matches `re`: log lines are written in batches. */
export async function eventually(read: () => string, re: RegExp, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = read();
    if (re.test(text) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits (bounded, 5 s) for the log line that starts with `tag` and a space; '' if none came. */
export async function lineFor(read: () => string, tag: string): Promise<string> {
  const end = Date.now() + 5000;
  for (;;) {
    const line = read().split('\n').find((l) => l.startsWith(`${tag} `));
    if (line !== undefined || Date.now() > end) return line ?? '';
    await new Promise((r) => setTimeout(r, 20));
  }
}
