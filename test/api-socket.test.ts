// ngx.socket.tcp (cosockets) through the real server: handlers talk to a real peer, a node:net
// line server this file starts (it also counts the connections it accepts and sees closed, so
// pooling is checked from the peer's side), and a real redis-server spoken to in RESP by a
// small client written with ngx.socket in the conf.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_REDIS, REDIS_BIN, RedisServer } from './helpers/redis.js';
import { freePort, httpGet, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';

/** The peer: one command line per exchange; counts connections opened and closed. */
class Peer {
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

let peer: Peer;
let peerPort: number;
let deadPort: number;
let unixPath: string;
let unixServer: net.Server;
let t: TrestyProcess;
let port: number;
let certPort: number;

/** A handler body that connects to the peer as `sock`, or says why not and returns. */
const CONNECT = (opts = '') => `
  const sock = ngx.socket.tcp();
  sock.settimeout(3000);
  { const [ok, err] = await sock.connect('127.0.0.1', PEER${opts ? `, ${opts}` : ''});
    if (!ok) { ngx.say('connect failed: ', err); return; } }`;

const conf = (): string => `
worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    location = /echo {
      content_by_js_block {
        ${CONNECT()}
        const [n, e1] = await sock.send(['ECHO ', ngx.var.arg_t ?? 'hi', new Uint8Array([10])]);
        const [line, e2] = await sock.receive();
        const [reused] = sock.getreusedtimes();
        const [kept, e3] = ngx.var.arg_keep === 'no' ? sock.close() : sock.setkeepalive();
        ngx.say(n, ' ', e1, ' [', line, '] ', e2, ' reused=', reused, ' kept=', kept, ' ', e3);
      }
    }
    location = /lines {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('LINES\\n');
        const out = [];
        for (let i = 0; i < 3; i++) out.push((await sock.receive('*l'))[0]);
        ngx.say(JSON.stringify(out));
        sock.close();
      }
    }
    location = /sized {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('ECHO 0123456789\\n');
        const a = await sock.receive(4);
        const b = await sock.receive('3');
        const c = await sock.receive(0);
        const d = await sock.receiveany(100);
        ngx.say(JSON.stringify([a, b, c, d]));
        sock.close();
      }
    }
    location = /binary {
      content_by_js_block {
        const sock = ngx.socket.tcp({ binary: true });
        await sock.connect('127.0.0.1', PEER);
        await sock.send('BIN\\n');
        const [b] = await sock.receive(4);
        ngx.say(b instanceof Uint8Array, ' ', Array.from(b).join(','));
        sock.close();
      }
    }
    location = /all {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('ALL\\n');
        const a = await sock.receive('*a');
        const b = await sock.receive();
        ngx.say(JSON.stringify([a, b]));
      }
    }
    location = /partial {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('PARTIAL\\n');
        const r = await sock.receive(ngx.var.arg_n === 'line' ? '*l' : 10);
        const again = await sock.receive(1);
        const closed = sock.close();
        ngx.say(JSON.stringify([r, again, closed]));
      }
    }
    location = /reset {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('RESET\\n');
        ngx.say(JSON.stringify(await sock.receive()));
      }
    }
    location = /timeout {
      content_by_js_block {
        ${CONNECT()}
        sock.settimeouts(3000, 3000, Number(ngx.var.arg_ms));
        await sock.send('HANG\\n');
        const t0 = Date.now();
        const r = await sock.receive();
        const ms = Date.now() - t0;
        // A read timeout leaves the connection usable, as OpenResty's does.
        await sock.send('ECHO after\\n');
        const after = await sock.receive();
        ngx.say(JSON.stringify([r, after]), ' ', ms);
        sock.close();
      }
    }
    location = /refused {
      content_by_js_block {
        const sock = ngx.socket.tcp();
        const r = await sock.connect('127.0.0.1', ${'${DEAD}'});
        const s = await sock.send('x');
        const [s2, err] = await ngx.socket.connect('127.0.0.1', ${'${DEAD}'});
        ngx.say(JSON.stringify([r, s, s2, err]));
      }
    }
    location = /connect-timeout {
      content_by_js_block {
        const sock = ngx.socket.tcp();
        sock.settimeouts(Number(ngx.var.arg_ms), 1000, 1000);
        const t0 = Date.now();
        // A listener whose accept queue is full: the kernel drops the SYN, the connect hangs.
        const r = await sock.connect('127.0.0.1', ${'${FULL}'});
        ngx.say(JSON.stringify(r), ' ', Date.now() - t0);
      }
    }
    location = /resolve {
      content_by_js_block {
        const sock = ngx.socket.tcp();
        sock.settimeout(5000);
        const a = await sock.connect('localhost', PEER);
        sock.close();
        const b = await sock.connect('no-such-host.invalid', 80);
        ngx.say(JSON.stringify([a, b]));
      }
    }
    location = /unix {
      content_by_js_block {
        const [sock, err] = await ngx.socket.connect('unix:${'${UNIX}'}');
        if (!sock) { ngx.say('failed ', err); return; }
        await sock.send('ECHO via unix\\n');
        ngx.say((await sock.receive())[0]);
        sock.close();
      }
    }
    location = /until {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('SPLIT\\n');
        const read = sock.receiveuntil('\\r\\n--boundary', { inclusive: ngx.var.arg_inc === '1' });
        const size = ngx.var.arg_size ? Number(ngx.var.arg_size) : undefined;
        const out = [];
        for (let i = 0; i < 10; i++) {
          const r = await read(size);
          out.push(r);
          if (r[0] === null) break;
          if (size === undefined) break;
        }
        out.push(await sock.receive());
        ngx.say(JSON.stringify(out));
        sock.close();
      }
    }
    location = /until-closed {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('PARTIAL\\n');
        ngx.say(JSON.stringify(await sock.receiveuntil('zzz')()));
      }
    }
    location = /busy {
      content_by_js_block {
        ${CONNECT()}
        sock.settimeout(300);
        await sock.send('HANG\\n');
        const [a, b] = await Promise.all([sock.receive(), sock.receive()]);
        ngx.say(JSON.stringify([a, b]));
        sock.close();
      }
    }
    location = /pool {
      content_by_js_block {
        // n sockets at once in one pool, all put back: the pool keeps \`size\`, closes the rest.
        const n = Number(ngx.var.arg_n), size = Number(ngx.var.arg_size);
        const socks = [];
        for (let i = 0; i < n; i++) {
          const s = ngx.socket.tcp();
          const [ok, err] = await s.connect('127.0.0.1', PEER, { pool: 'p' + ngx.var.arg_name });
          if (!ok) { ngx.say('failed ', err); return; }
          await s.send('ECHO pool-' + ngx.var.arg_name + '\\n');
          await s.receive();
          socks.push(s);
        }
        const reused = socks.map((s) => s.getreusedtimes()[0]);
        for (const s of socks) s.setkeepalive(Number(ngx.var.arg_idle ?? 0), size);
        ngx.say(JSON.stringify(reused));
      }
    }
    location = /unread {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('ECHO one\\nECHO two\\n');
        await sock.receive();
        await ngx.sleep(0.1);
        const k = sock.setkeepalive();
        ngx.say(JSON.stringify([k, sock.getreusedtimes()]));
      }
    }
    location = /bye {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('BYE\\n');
        const r = await sock.receive();
        ngx.say(JSON.stringify([r, sock.getreusedtimes(), sock.setkeepalive()]));
      }
    }
    location = /backlog {
      content_by_js_block {
        // pool_size 1, backlog 1: a second connect waits for the first connection's return,
        // a third one is refused at once.
        const opts = { pool: 'bl', pool_size: 1, backlog: 1 };
        const a = ngx.socket.tcp(), b = ngx.socket.tcp(), c = ngx.socket.tcp();
        for (const s of [a, b, c]) s.settimeout(2000);
        await a.connect('127.0.0.1', PEER, opts);
        const bDone = b.connect('127.0.0.1', PEER, opts);
        const cRes = await c.connect('127.0.0.1', PEER, opts);
        await ngx.sleep(0.05);
        a.setkeepalive();
        const bRes = await bDone;
        ngx.say(JSON.stringify([cRes, bRes, b.getreusedtimes()]));
        b.close();
      }
    }
    location = /leak {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('ECHO leak\\n');
        await sock.receive();
        globalThis.leaked = sock;
        ngx.say('left open');
      }
    }
    location = /use-leaked {
      content_by_js_block {
        const r = [];
        for (const f of [() => globalThis.leaked.receive(), () => globalThis.leaked.close()]) {
          try { await f(); r.push('no throw'); } catch (e) { r.push(e.code + ': ' + e.message); }
        }
        ngx.say(JSON.stringify(r));
      }
    }
    location = /phases {
      rewrite_by_js_block { ngx.ctx.s = ngx.socket.tcp(); }
      access_by_js_block { const [ok] = await ngx.ctx.s.connect('127.0.0.1', PEER); ngx.ctx.ok = ok; }
      content_by_js_block {
        await ngx.ctx.s.send('ECHO phases\\n');
        ngx.say(ngx.ctx.ok, ' ', (await ngx.ctx.s.receive())[0]);
      }
      log_by_js_block {
        for (const f of [() => ngx.socket.tcp(), () => ngx.ctx.s.close()]) {
          try { f(); ngx.log(ngx.ERR, 'sock-in-log: no throw'); } catch (e) { ngx.log(ngx.ERR, 'sock-in-log: ', e.code, ' ', e.message); }
        }
      }
    }
    location = /timer {
      content_by_js_block {
        const [ok, err] = ngx.timer.at(0, async function () {
          const s = this.socket.tcp();
          s.settimeout(3000);
          const r = await s.connect('127.0.0.1', PEER);
          await s.send('ECHO from timer\\n');
          globalThis.timerResult = [r, await s.receive()];
          s.setkeepalive();
        });
        ngx.say(ok, ' ', err);
      }
    }
    location = /timer-result { content_by_js_block { ngx.say(JSON.stringify(globalThis.timerResult ?? null)); } }
    location = /bad-args {
      content_by_js_block {
        const sock = ngx.socket.tcp();
        const out = [];
        const tries = [
          () => sock.connect(42, 1), () => sock.connect('127.0.0.1'), () => sock.connect('127.0.0.1', 70000),
          () => sock.send({}), () => sock.receive('*x'), () => sock.receive(-1), () => sock.settimeout('x'),
          () => sock.receiveuntil(''), () => sock.receiveany(0), () => ngx.socket.tcp(5),
        ];
        for (const f of tries) {
          try { await f(); out.push('no throw'); } catch (e) { out.push(e.code + ': ' + e.message); }
        }
        ngx.say(JSON.stringify(out));
      }
    }
    location = /tls {
      content_by_js_block {
        const sock = ngx.socket.tcp();
        sock.settimeout(3000);
        const port = ngx.var.arg_untrusted ? ${'${TLS2}'} : ${'${TLS1}'};
        { const [ok, err] = await sock.connect('127.0.0.1', port, { pool: 'tls-' + ngx.var.arg_pool });
          if (!ok) { ngx.say('connect failed: ', err); return; } }
        const [sess, err] = await sock.sslhandshake(null, ngx.var.arg_name ?? null, ngx.var.arg_verify === '1');
        if (!sess) { ngx.say('handshake: ', err); return; }
        await sock.send('ECHO secure\\n');
        const [line] = await sock.receive();
        const [again] = await sock.sslhandshake(false);
        ngx.say(line, ' ', sess.constructor.name, ' ', again, ' reused=', sock.getreusedtimes()[0]);
        sock.setkeepalive();
      }
    }
    location = /udp {
      content_by_js_block {
        const u = ngx.socket.udp();
        u.settimeout(Number(ngx.var.arg_ms ?? 3000));
        const port = ngx.var.arg_dead ? ${'${DEAD}'} : ${'${UDP}'};
        const r1 = await u.setpeername(ngx.var.arg_host ?? '127.0.0.1', port);
        const r2 = await u.send(['ping ', ngx.var.arg_t ?? 'x']);
        const r3 = await u.receive();
        ngx.say(JSON.stringify([r1, r2, r3, u.close(), u.close()]));
      }
    }
    location = /redis {
      content_by_js_block {
        const { command } = await import('./resp.mjs');
        const [sock, err] = await ngx.socket.connect('127.0.0.1', ${'${REDIS}'});
        if (!sock) { ngx.say('redis connect failed: ', err); return; }
        sock.settimeout(2000);
        const a = ngx.var.arg_op === 'set'
          ? await command(sock, 'SET', ngx.var.arg_k, ngx.unescape_uri(ngx.var.arg_v))
          : await command(sock, 'GET', ngx.var.arg_k);
        ngx.say(JSON.stringify(a), ' reused=', sock.getreusedtimes()[0]);
        sock.setkeepalive(10000, 10);
      }
    }
  }
  ${'${CERTSERVER}'}
}`;

/** A TLS server whose ssl_certificate_by_js talks to the peer through a cosocket. */
const certServer = (tlsPort: number, dir: string): string => `
  server {
    listen 127.0.0.1:${tlsPort} ssl;
    ssl_certificate ${dir}/trusted.crt; ssl_certificate_key ${dir}/trusted.key;
    ssl_certificate_by_js_block {
      const [s, err] = await ngx.socket.connect('127.0.0.1', ${peerPort});
      if (!s) { ngx.log(ngx.ERR, 'cert-sock failed: ', err); return; }
      s.settimeout(3000);
      await s.send('ECHO from handshake\\n');
      ngx.log(ngx.ERR, 'cert-sock: ', (await s.receive())[0]);
      s.setkeepalive();
    }
    location / { return 200 "tls ok"; }
  }`;

/** A RESP client on ngx.socket: what lua-resty-redis does, in a few lines. */
const RESP = `
export async function command(sock, ...args) {
  const req = ['*' + args.length + '\\r\\n'];
  for (const a of args) req.push('$' + Buffer.byteLength(a) + '\\r\\n', a, '\\r\\n');
  const [n, err] = await sock.send(req);
  if (n === null) return [null, err];
  const [line, e2] = await sock.receive();
  if (line === null) return [null, e2];
  const kind = line[0], rest = line.slice(1);
  if (kind === '+') return [rest, null];
  if (kind === '-') return [false, rest];
  if (kind === ':') return [Number(rest), null];
  if (kind === '$') {
    const len = Number(rest);
    if (len < 0) return [null, null];
    const [data, e3] = await sock.receive(len + 2);
    return data === null ? [null, e3] : [data.slice(0, -2), null];
  }
  return [null, 'unexpected reply ' + line];
}`;

let redis: RedisServer | null = null;

/** A UDP peer: answers `pong:MSG`, or nothing when MSG says silent. */
const udpPeer = dgram.createSocket('udp4');
udpPeer.on('message', (m, from) => {
  if (!m.toString().includes('silent')) udpPeer.send(`pong:${m.toString()}`, from.port, from.address);
});

const OPENSSL = spawnSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' }).stdout.trim();
const NO_OPENSSL = OPENSSL ? '' : ' (skipped: the openssl CLI, which makes the test certificates, is not installed)';
const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-sock-certs-'));
const tlsServers: tls.Server[] = [];

/** A TLS line peer (ECHO only) with a self-signed certificate for localhost; resolves its port. */
async function tlsPeer(name: string): Promise<number> {
  if (!OPENSSL) return 1;
  const f = (ext: string): string => path.join(certDir, `${name}.${ext}`);
  execFileSync(OPENSSL, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', f('key'), '-out', f('crt'), '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  const srv = tls.createServer({ key: fs.readFileSync(f('key')), cert: fs.readFileSync(f('crt')) }, (s) => {
    s.on('error', () => {});
    s.on('data', (d) => { for (const l of d.toString().split('\n')) if (l.startsWith('ECHO ')) s.write(`${l.slice(5)}\r\n`); });
  });
  tlsServers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as net.AddressInfo).port;
}

/** Node always accepts; python3 can hold a listen socket with a backlog of 0 that never does. */
const PYTHON = spawnSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).stdout.trim();
let fullListener: ChildProcess | null = null;
const fillers: net.Socket[] = [];

/** A port whose accept queue is full (a connect to it hangs), or 1 without python3. */
async function fullPort(): Promise<number> {
  if (!PYTHON) return 1;
  const py = spawn(PYTHON, ['-c', 'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(600)']);
  fullListener = py;
  const p = await new Promise<number>((resolve, reject) => {
    py.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    py.once('exit', (code) => reject(new Error(`python3 listener exited (${code})`)));
  });
  for (let i = 0; i < 3; i++) fillers.push(net.connect(p, '127.0.0.1').on('error', () => {}));
  await new Promise((r) => setTimeout(r, 200));
  return p;
}

beforeAll(async () => {
  peer = new Peer();
  await new Promise<void>((r) => peer.server.listen(0, '127.0.0.1', r));
  peerPort = (peer.server.address() as net.AddressInfo).port;
  deadPort = await freePort();
  unixPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-sock-')), 'peer.sock');
  unixServer = net.createServer((s) => s.on('data', (d) => s.write(`${d.toString().trim().slice(5)}\n`)));
  await new Promise<void>((r) => unixServer.listen(unixPath, r));
  let redisPort = 1;
  if (REDIS_BIN) {
    redisPort = await freePort();
    redis = new RedisServer(redisPort);
    await redis.start();
  }
  const full = await fullPort();
  await new Promise<void>((r) => udpPeer.bind(0, '127.0.0.1', r));
  const udp = udpPeer.address().port;
  const tls1 = await tlsPeer('trusted');
  const tls2 = await tlsPeer('untrusted');
  port = await freePort();
  certPort = await freePort();
  const text = conf().replaceAll('PEER', String(peerPort)).replaceAll('${DEAD}', String(deadPort))
    .replaceAll('${UNIX}', unixPath).replaceAll('${REDIS}', String(redisPort))
    .replaceAll('${FULL}', String(full))
    .replaceAll('${CERTSERVER}', OPENSSL ? certServer(certPort, certDir) : '').replaceAll('${UDP}', String(udp)).replaceAll('${TLS1}', String(tls1)).replaceAll('${TLS2}', String(tls2));
  // The trusted peer's certificate is a CA the workers know, as a system CA would be.
  const env: Record<string, string> = OPENSSL ? { NODE_EXTRA_CA_CERTS: path.join(certDir, 'trusted.crt') } : {};
  t = await startTresty(text, { files: { 'conf/resp.mjs': RESP }, env });
}, 60_000);

afterAll(async () => {
  await stopAll();
  await redis?.stop();
  peer?.server.close();
  unixServer?.close();
  for (const f of fillers) f.destroy();
  fullListener?.kill();
  for (const x of tlsServers) x.close();
  udpPeer.close();
});

const body = async (p: string): Promise<string> => {
  const r = await httpGet(port, p);
  expect(r.status, `${p}: ${r.body}\n${t.errorLog()}`).toBe(200);
  return r.body.trim();
};
const json = async (p: string): Promise<unknown> => {
  const b = await body(p);
  const m = /^(\[.*\]|null)(?: (\d+))?$/s.exec(b);
  if (m === null) throw new Error(`${p}: not JSON: ${b}`);
  return JSON.parse(m[1]!);
};

describe('ngx.socket.tcp: connect, send, receive, close', () => {
  it('sends a mixed array and reads a line; close then reports closed', async () => {
    expect(await body('/echo?t=hello&keep=no')).toBe('11 nil [hello] nil reused=0 kept=true nil');
  });

  it("receive('*l') strips LF and every CR", async () => {
    expect(await json('/lines')).toEqual(['one', 'two', 'three']);
  });

  it('receive(n), receive("n"), receive(0), receiveany', async () => {
    expect(await json('/sized')).toEqual([['0123', null, null], ['456', null, null], ['', null, null], ['789\r\n', null]]);
  });

  it('binary sockets return bytes', async () => {
    expect(await body('/binary')).toBe('true 0,255,10,13');
  });

  it("receive('*a') reads to the peer's close; the next receive is closed", async () => {
    expect(await json('/all')).toEqual([['x\r\ny\n', null, null], [null, 'closed', '']]);
  });

  it('the peer closing mid-receive gives closed with the partial data', async () => {
    expect(await json('/partial')).toEqual([[null, 'closed', 'abc'], [null, 'closed', null], [null, 'closed']]);
    expect(await json('/partial?n=line')).toEqual([[null, 'closed', 'abc'], [null, 'closed', null], [null, 'closed']]);
  });

  it('a reset by the peer is an error value', async () => {
    expect(await json('/reset')).toEqual([null, 'connection reset by peer', '']);
  });

  it('a refused connect is an error value, also through ngx.socket.connect', async () => {
    expect(await json('/refused')).toEqual([[null, 'connection refused'], [null, 'closed'], null, 'connection refused']);
  });

  it('host names are resolved (system resolver); an unknown one says so', async () => {
    const [a, b] = await json('/resolve') as [unknown, [null, string]];
    expect(a).toEqual([true, null]);
    expect(b[0]).toBeNull();
    // (2: Server failure) where the machine has no DNS server to ask at all.
    expect(b[1]).toMatch(/^no-such-host\.invalid could not be resolved \((3: Host not found|2: Server failure)\)$/);
  });

  it('unix: sockets', async () => {
    expect(await body('/unix')).toBe('via unix');
  });

  it('two receives at once: the second is refused as busy', async () => {
    expect(await json('/busy')).toEqual([[null, 'timeout', ''], [null, 'socket busy reading', null]]);
  });

  it('bad arguments throw TRESTY_ERR_API_ARGS (never a network failure)', async () => {
    const out = await json('/bad-args') as string[];
    expect(out).toHaveLength(10);
    for (const o of out) expect(o).toMatch(/^TRESTY_ERR_API_ARGS: /);
    expect(out[0]).toContain("bad argument #1 to 'connect' (string expected, got number)");
    expect(out[2]).toContain('bad port number: 70000');
    expect(out[4]).toContain('bad pattern argument: *x');
  });
});

describe('ngx.socket.tcp: timeouts', () => {
  it('a peer that never answers gives "timeout" within the read timeout; the worker serves the next request', async () => {
    const t0 = Date.now();
    const b = await body('/timeout?ms=300');
    const m = /^(.*) (\d+)$/.exec(b)!;
    expect(JSON.parse(m[1]!)).toEqual([[null, 'timeout', ''], ['after', null, null]]);
    expect(Number(m[2])).toBeGreaterThanOrEqual(280);
    expect(Date.now() - t0).toBeLessThan(10_000); // far below the 60 s default, with room for a loaded machine
    expect(await body('/echo?t=next')).toContain('[next]');
  });

  it.skipIf(!PYTHON)(`a connect nobody answers gives "timeout" within the connect timeout${PYTHON ? '' : ' (skipped: python3, which holds a listener that never accepts, is not installed)'}`, async () => {
    const b = await body('/connect-timeout?ms=300');
    const m = /^(.*) (\d+)$/.exec(b)!;
    expect(JSON.parse(m[1]!)).toEqual([null, 'timeout']);
    expect(Number(m[2])).toBeGreaterThanOrEqual(280);
    expect(Number(m[2])).toBeLessThan(10_000);
    expect(await body('/echo?t=next&keep=no')).toContain('[next]');
  });
});

describe('ngx.socket.tcp: receiveuntil', () => {
  it('finds a pattern written across three packets', async () => {
    expect(await json('/until')).toEqual([['hello world', null, null], ['tail', null, null]]);
  });

  it('inclusive keeps the pattern', async () => {
    expect(await json('/until?inc=1')).toEqual([['hello world\r\n--boundary', null, null], ['tail', null, null]]);
  });

  it('with a size, gives pieces of at most that size, then [null, null, null]', async () => {
    const out = await json('/until?size=4') as unknown[][];
    expect(out.at(-2)).toEqual([null, null, null]);
    expect(out.at(-1)).toEqual(['tail', null, null]);
    const pieces = out.slice(0, -2).map((r) => r[0] as string);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(4);
    expect(pieces.join('')).toBe('hello world');
  });

  it('the peer closing before the pattern gives closed with the partial data', async () => {
    expect(await json('/until-closed')).toEqual([null, 'closed', 'abc']);
  });
});

describe('ngx.socket.tcp: the connection pool', () => {
  it('setkeepalive pools the connection; the next request reuses it (the peer sees one connection)', async () => {
    await body('/echo?keep=no'); // whatever was pooled before is not in the way
    const before = peer.opened;
    expect(await body('/echo?t=a')).toBe('7 nil [a] nil reused=0 kept=true nil');
    expect(await body('/echo?t=b')).toBe('7 nil [b] nil reused=1 kept=true nil');
    expect(await body('/echo?t=c&keep=no')).toBe('7 nil [c] nil reused=2 kept=true nil');
    expect(peer.opened - before).toBe(1);
  });

  it('a pool keeps at most its size; the rest are closed', async () => {
    const opened = peer.opened;
    expect(await json('/pool?n=3&size=2&name=a')).toEqual([0, 0, 0]);
    await peer.until(() => peer.closedWith('pool-a') === 1);
    expect(peer.opened - opened).toBe(3);
    // Two are pooled: the next three use them and open one more.
    expect(await json('/pool?n=3&size=2&name=a')).toEqual([1, 1, 0]);
    expect(peer.opened - opened).toBe(4);
  });

  it('an idle pooled connection is closed after the keepalive timeout', async () => {
    expect(await json('/pool?n=2&size=5&name=b&idle=200')).toEqual([0, 0]);
    await peer.until(() => peer.closedWith('pool-b') === 2, 5000);
    expect(await json('/pool?n=1&size=5&name=b')).toEqual([0]);
  });

  it('a pooled connection the peer closes is dropped from the pool', async () => {
    const r = await json('/bye') as unknown[];
    expect(r).toEqual([['bye', null, null], [0, null], [true, null]]);
    await peer.until(() => peer.closedWith('BYE') === 1);
    await new Promise((res) => setTimeout(res, 50));
    // The connection BYE closed must not be handed out: the next one under that key is new.
    expect(await body('/echo?t=fresh&keep=no')).toContain('reused=0');
  });

  it('setkeepalive refuses a connection with unread data (and closes it)', async () => {
    expect(await json('/unread')).toEqual([[null, 'unread data in buffer'], [null, 'closed']]);
  });

  it('backlog queues a connect over pool_size until a connection comes back', async () => {
    expect(await json('/backlog')).toEqual([[null, 'too many waiting connect operations'], [true, null], [1, null]]);
  });
});

describe('ngx.socket.tcp: phases and ownership', () => {
  it('a socket lives through the phases of its request; log_by_js may not use it', async () => {
    expect(await body('/phases')).toBe('true phases');
    await new Promise((r) => setTimeout(r, 200));
    const log = t.errorLog();
    expect(log).toContain('sock-in-log: TRESTY_ERR_API_DISABLED API disabled in the context of log_by_js*');
    expect(log).not.toContain('sock-in-log: no throw');
  });

  it('works in a timer', async () => {
    expect(await body('/timer')).toBe('true nil');
    let r: unknown = null;
    for (let i = 0; i < 50 && r === null; i++) {
      await new Promise((res) => setTimeout(res, 50));
      r = await json('/timer-result');
    }
    expect(r).toEqual([[true, null], ['from timer', null, null]]);
  });

  it('a socket left open is closed when its request ends, and another request cannot use it', async () => {
    expect(await body('/leak')).toBe('left open');
    await peer.until(() => peer.closedWith('leak') === 1);
    const out = await json('/use-leaked') as string[];
    expect(out).toEqual(['TRESTY_ERR_API_BAD_REQUEST: bad request', 'TRESTY_ERR_API_BAD_REQUEST: bad request']);
  });
});

describe('ngx.socket.udp', () => {
  it('setpeername, send, receive, close', async () => {
    expect(await json('/udp?t=hello')).toEqual([[true, null], [true, null], ['pong:ping hello', null], [true, null], [null, 'closed']]);
  });

  it('host names are resolved', async () => {
    expect(await json('/udp?host=localhost')).toEqual([[true, null], [true, null], ['pong:ping x', null], [true, null], [null, 'closed']]);
  });

  it('a peer that never answers gives "timeout"', async () => {
    expect(await json('/udp?t=silent&ms=200')).toEqual([[true, null], [true, null], [null, 'timeout'], [true, null], [null, 'closed']]);
  });

  it('a port nobody listens on: the ICMP refusal is reported', async () => {
    expect(await json('/udp?dead=1&ms=2000')).toEqual([[true, null], [true, null], [null, 'connection refused'], [true, null], [null, 'closed']]);
  });
});

describe.skipIf(!OPENSSL)(`ngx.socket.tcp: sslhandshake${NO_OPENSSL}`, () => {
  it('verifies the chain and the name; a pooled TLS connection comes back in TLS', async () => {
    expect(await body('/tls?verify=1&name=localhost&pool=a')).toBe('secure SslSession true reused=0');
    expect(await body('/tls?verify=1&name=localhost&pool=a')).toBe('secure SslSession true reused=1');
  });

  it('without a name only the chain is verified', async () => {
    expect(await body('/tls?verify=1&pool=b')).toBe('secure SslSession true reused=0');
  });

  it('a wrong name or an unknown issuer fails the handshake when verifying, as OpenResty says it', async () => {
    expect(await body('/tls?verify=1&name=other.example&pool=c')).toBe('handshake: certificate host mismatch');
    expect(await body('/tls?verify=1&name=localhost&untrusted=1&pool=d')).toBe('handshake: 18: self-signed certificate');
    expect(await body('/tls?name=localhost&untrusted=1&pool=e')).toBe('secure SslSession true reused=0');
  });
});

describe.skipIf(!OPENSSL)(`ngx.socket.tcp in ssl_certificate_by_js${NO_OPENSSL}`, () => {
  it('a handshake handler may use cosockets', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: certPort, servername: 'localhost', rejectUnauthorized: false }, () => {
        s.end('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
      });
      let out = '';
      s.on('data', (d) => { out += d; });
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
    expect(got).toContain('tls ok');
    expect(t.errorLog()).toContain('cert-sock: from handshake');
  });
});

describe.skipIf(!REDIS_BIN)(`ngx.socket.tcp speaking RESP to redis-server${NO_REDIS}`, () => {
  it('SET then GET through a pooled connection', async () => {
    expect(await body('/redis?op=set&k=greeting&v=h%C3%A9llo')).toBe('["OK",null] reused=0');
    expect(await body('/redis?op=get&k=greeting')).toBe('["héllo",null] reused=1');
    expect(await body('/redis?op=get&k=missing')).toBe('[null,null] reused=2');
  });
});
