// The peer ngx.socket.tcp's tests talk to, and the tresty they start: a node:net line server (one
// command a line; it counts the connections it accepts and sees closed, so pooling is checked
// from the peer's side) and one tresty whose server holds the file's locations. Used by
// api-socket.test.ts, api-socket-pool.test.ts and api-socket-udp-tls.test.ts.
import net from 'node:net';
import { afterAll, beforeAll, expect } from 'vitest';
import { freePort, httpGet, oneServerConf, startTresty, stopAll, type TrestyProcess } from './server.js';

/** The peer: one command line per exchange; counts connections opened and closed. */
export class Peer {
  opened = 0;
  closed = 0;
  /** Closed connections by the tag of their last command (ECHO's text, else the command): a
   *  close that lands late, from an earlier test, cannot be counted as a later test's. */
  readonly closedTags = new Map<string, number>();
  readonly server: net.Server;
  private waiters: Array<() => void> = [];
  constructor() {
    this.server = net.createServer((s) => {
      this.opened++;
      let tag = '';
      s.on('close', () => {
        this.closed++;
        this.closedTags.set(tag, (this.closedTags.get(tag) ?? 0) + 1);
        this.poke();
      });
      s.on('error', () => {});
      let buf = '';
      s.on('data', (d) => {
        buf += d.toString('utf8');
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).replace(/\r$/, '');
          buf = buf.slice(i + 1);
          tag = line.startsWith('ECHO ') ? line.slice(5) : line;
          this.command(s, line);
        }
      });
      this.poke();
    });
  }

  closedWith(tag: string): number { return this.closedTags.get(tag) ?? 0; }

  private poke(): void { for (const w of this.waiters.splice(0)) w(); }

  /** Resolves once `pred` holds (checked on every open and close), or fails after `ms`. */
  async until(pred: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`peer: condition not met (opened ${this.opened}, closed ${this.closed})`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 50); });
    }
  }

  private command(s: net.Socket, line: string): void {
    const sp = line.indexOf(' ');
    const cmd = sp < 0 ? line : line.slice(0, sp);
    const arg = sp < 0 ? '' : line.slice(sp + 1);
    const later = (ms: number, f: () => void): void => { setTimeout(f, ms); };
    switch (cmd) {
      case 'ECHO': s.write(`${arg}\r\n`); break;
      case 'LINES': s.write('one\r\ntwo\nthr\ree\n'); break;
      case 'HANG': break;
      case 'PARTIAL': s.end('abc'); break;
      case 'ALL': s.end('x\r\ny\n'); break;
      case 'RESET': s.resetAndDestroy(); break;
      case 'BYE': s.write('bye\r\n'); later(100, () => s.end()); break;
      case 'SPLIT': // the pattern arrives cut across three writes
        s.write('hello wor');
        later(40, () => s.write('ld\r\n--bou'));
        later(80, () => s.write('ndary'));
        later(120, () => s.write('tail\n'));
        break;
      case 'BIN': s.write(Buffer.from([0, 255, 10, 13])); break;
      default: s.write(`unknown ${cmd}\r\n`);
    }
  }
}

/** A handler body that connects to the peer as `sock`, or says why not and returns. */
export const CONNECT = (opts = '') => `
  const sock = ngx.socket.tcp();
  sock.settimeout(3000);
  { const [ok, err] = await sock.connect('127.0.0.1', PEER${opts ? `, ${opts}` : ''});
    if (!ok) { ngx.say('connect failed: ', err); return; } }`;

/** /echo?t=TEXT[&keep=no]: one exchange with the peer, then back to the pool (or closed). */
export const ECHO_LOCATION = `location = /echo {
      content_by_js_block {
        ${CONNECT()}
        const [n, e1] = await sock.send(['ECHO ', ngx.var.arg_t ?? 'hi', new Uint8Array([10])]);
        const [line, e2] = await sock.receive();
        const [reused] = sock.getreusedtimes();
        const [kept, e3] = ngx.var.arg_keep === 'no' ? sock.close() : sock.setkeepalive();
        ngx.say(n, ' ', e1, ' [', line, '] ', e2, ' reused=', reused, ' kept=', kept, ' ', e3);
      }
    }`;

/** What a file gives its tresty: the server's locations (`PEER` in them is the peer's port),
 *  text after the server at the http level, files under the prefix, environment. */
export interface SocketConf {
  locations: string;
  http?: string;
  files?: Record<string, string>;
  env?: Record<string, string>;
}

export interface SocketSuite {
  readonly peer: Peer;
  peerPort(): number;
  port(): number;
  t(): TrestyProcess;
  /** The body of GET `p` (trimmed), which must be a 200. */
  body(p: string): Promise<string>;
  /** The JSON a handler said at GET `p` (an array or null, maybe followed by a number). */
  json(p: string): Promise<unknown>;
}

/** Starts the peer, then tresty (one worker, errors in logs/error.log) on what `build` gives once
 *  the peer listens; both stop after the file. `build` may start the file's other peers (the
 *  file closes them). */
export function socketSuite(build: (peerPort: number) => Promise<SocketConf>): SocketSuite {
  const peer = new Peer();
  let peerPort = 0;
  let port = 0;
  let t: TrestyProcess;
  beforeAll(async () => {
    await new Promise<void>((r) => peer.server.listen(0, '127.0.0.1', r));
    peerPort = (peer.server.address() as net.AddressInfo).port;
    const c = await build(peerPort);
    port = await freePort();
    const conf = oneServerConf(port, c.locations, { http: c.http });
    t = await startTresty(conf.replaceAll('PEER', String(peerPort)), { files: c.files, env: c.env });
  }, 60_000);
  afterAll(async () => {
    await stopAll();
    peer.server.close();
  });
  const body = async (p: string): Promise<string> => {
    const r = await httpGet(port, p);
    expect(r.status, `${p}: ${r.body}\n${t.errorLog()}`).toBe(200);
    return r.body.trim();
  };
  return {
    peer,
    peerPort: () => peerPort,
    port: () => port,
    t: () => t,
    body,
    async json(p) {
      const b = await body(p);
      const m = /^(\[.*\]|null)(?: (\d+))?$/s.exec(b);
      if (m === null) throw new Error(`${p}: not JSON: ${b}`);
      return JSON.parse(m[1]!);
    },
  };
}
