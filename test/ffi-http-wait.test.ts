// An FFI answer through HTTP goes out as soon as it is there, on both engines: no request with a
// plugin call waits for an unrelated event (another request, a timer). One keep-alive connection,
// sequential requests, no other traffic, and every timer the server could fall back on (keepalive,
// body, send, the plugin's deadline) set to 30 s or more, so a response parked until "the next
// event" shows up as a request taking seconds instead of well under one. Both ways an answer comes
// back are exercised: the look after a submit (a quick runtime) and the doorbell pipe (an answer
// from another thread 20 ms later, after which the channel backs off to doorbells for quick calls
// too). On the native engine the doorbell is read by the engine's own epoll (src/ffi/bell.ts), which
// the test checks in /proc: the engine's epoll (the one libuv's epoll watches) holds the doorbell
// pipe. Skipped when the native libraries are not built.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, ROOT, startTresty, type TrestyProcess } from './helpers/server.js';

const build = path.join(ROOT, 'native', 'build');
const slowLib = path.join(build, 'test-runtimes', 'libtresty_test_slow.so');
const built = fs.existsSync(slowLib) && fs.existsSync(path.join(build, 'libecho_c.so')) && fs.existsSync(path.join(build, 'libtresty_host.so'));

// Far below the 30 s timers, far above a request on a loaded machine (a few ms): each request
// must be answered within it.
const BOUND_MS = 3000;

/** A process's epoll fds and the fds each watches, from /proc/PID/fdinfo (tfd lines). */
function epolls(pid: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`).map(Number)) {
    let target = '';
    try { target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
    if (target !== 'anon_inode:[eventpoll]') continue;
    const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    out.set(fd, [...info.matchAll(/^tfd:\s+(\d+)/gm)].map((m) => Number(m[1])));
  }
  return out;
}

/** The fds that are pipes in a process. */
function pipes(pid: number): Set<number> {
  const out = new Set<number>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`).map(Number)) {
    try { if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('pipe:')) out.add(fd); } catch { /* closed meanwhile */ }
  }
  return out;
}

/** Sequential requests over one connection; each resolves with its body and how long it took. */
class KeepAlive {
  private buf = '';
  private waiter: ((body: string) => void) | null = null;
  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.slice(0, end);
      let body: string;
      if (/transfer-encoding: *chunked/i.test(head)) {
        // A handler's answer is chunked, as nginx frames lua-nginx-module's output.
        const last = this.buf.indexOf('\r\n0\r\n\r\n', end + 2);
        if (last < 0) return;
        body = '';
        for (let at = end + 4; at < last + 2;) {
          const eol = this.buf.indexOf('\r\n', at);
          const n = parseInt(this.buf.slice(at, eol), 16);
          body += this.buf.slice(eol + 2, eol + 2 + n);
          at = eol + 2 + n + 2;
        }
        this.buf = this.buf.slice(last + 7);
      } else {
        const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (this.buf.length < end + 4 + len) return;
        body = this.buf.slice(end + 4, end + 4 + len);
        this.buf = this.buf.slice(end + 4 + len);
      }
      const w = this.waiter;
      this.waiter = null;
      w?.(body);
    });
  }

  static open(port: number): Promise<KeepAlive> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new KeepAlive(s)));
      s.setNoDelay(true);
      s.on('error', reject);
    });
  }

  async post(p: string, body: string): Promise<{ body: string; ms: number }> {
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const got = await new Promise<string>((resolve, reject) => {
      this.waiter = resolve;
      this.sock.once('close', () => reject(new Error(`connection closed during ${p}`)));
      // A parked answer would come at the next 30 s timer: give up long before, with the reason.
      timer = setTimeout(() => reject(new Error(`POST ${p} ${body}: no answer within ${BOUND_MS} ms`)), BOUND_MS);
      this.sock.write(`POST ${p} HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    }).finally(() => clearTimeout(timer));
    this.sock.removeAllListeners('close');
    return { body: got, ms: performance.now() - t0 };
  }

  close(): void {
    this.sock.destroy();
  }
}

for (const engine of ENGINES) {
  const run = built && !engine.skip;
  (run ? describe : describe.skip)(titled(engine, `FFI answers through HTTP${built ? '' : ' (skipped: native/build not built)'}`), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
events {}
http {
  keepalive_timeout 30s;
  client_body_timeout 30s;
  client_header_timeout 30s;
  send_timeout 30s;
  ffi_library_path ${build};
  ffi_plugin echo { library echo_c; format string; timeout 60s; }
  ffi_plugin slow { library ${slowLib}; format string; timeout 60s; }
  server {
    listen 127.0.0.1:${port};
    location = /echo {
      content_by_js_block { await ngx.req.read_body(); ngx.print(await ngx.ffi.echo.call(ngx.req.get_body_data() ?? '')); }
    }
    location = /slow {
      content_by_js_block { await ngx.req.read_body(); ngx.print(await ngx.ffi.slow.call(ngx.req.get_body_data() ?? '')); }
    }
  }
}`, { env: engine.env });
    });
    afterAll(async () => { await t?.stop(); });

    it('go out at once, by the look and by the doorbell, with nothing else to wake the worker', async () => {
      const c = await KeepAlive.open(port);
      try {
        const late: number[] = [];
        for (let round = 0; round < 3; round++) {
          for (let i = 0; i < 10; i++) {
            const r = await c.post('/echo', `quick ${round}.${i}`);
            expect(r.body).toBe(`quick ${round}.${i}`);
          }
          // Answered 20 ms later from another thread: the look finds nothing, the doorbell rings.
          const r = await c.post('/slow', 'sleep:20');
          expect(r.body).toBe('sleep:20');
          late.push(r.ms);
          // That plugin's channel now waits on doorbells for its next (quick) calls too.
          for (let i = 0; i < 10; i++) {
            const q = await c.post('/slow', `after ${round}.${i}`);
            expect(q.body).toBe(`after ${round}.${i}`);
          }
        }
        expect(Math.min(...late)).toBeGreaterThanOrEqual(19); // the slow runtime really waited
        if (engine.name === 'native') {
          // The engine's epoll is the one another epoll (libuv's) watches; both plugins' doorbell
          // pipes are on it, and on no other epoll.
          const [worker] = [...t.workerPids];
          const eps = epolls(worker!);
          const watchedByOthers = new Set([...eps.values()].flat());
          const engineEp = [...eps.keys()].filter((fd) => watchedByOthers.has(fd));
          expect(engineEp).toHaveLength(1);
          const p = pipes(worker!);
          const onEngine = eps.get(engineEp[0]!)!.filter((fd) => p.has(fd));
          expect(onEngine).toHaveLength(2);
          for (const [ep, fds] of eps) if (ep !== engineEp[0]) for (const fd of onEngine) expect(fds).not.toContain(fd);
        }
      } finally {
        c.close();
      }
    });
  });
}
