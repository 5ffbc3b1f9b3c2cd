// Request bodies that come with their head. The native engine hands a Content-Length body of up
// to 64 KB to JS inside the request record when it is already there (in the head's buffer or in
// the socket), so read_body() needs no second trip; anything else is read only when the handler
// asks, as nginx does. Both engines must give the same answers for every size around those
// limits, for bodies split across writes, for requests pipelined behind a body (read or not), and
// a chunked body must still wait for the handler (its "100 Continue" comes only then).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, statuses } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

/** The same hash the handler computes: a body that arrived changed or cut short shows. */
function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
}

/** A body of n bytes that is not periodic at any buffer size (a shifted copy would not hash the same). */
function body(n: number, seed = 0): string {
  let s = '';
  for (let i = 0; s.length < n; i++) s += `${seed}.${i};`;
  return s.slice(0, n);
}

function post(p: string, b: string, extra = ''): string {
  return `POST ${p} HTTP/1.1\r\nHost: t\r\nContent-Length: ${b.length}\r\n${extra}\r\n${b}`;
}

/** The bodies of the complete responses in data, in order (Content-Length or chunked). */
function bodies(data: string): string[] {
  const out: string[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end < 0) return out;
    const head = data.slice(at, end);
    let p = end + 4;
    const len = /content-length: *(\d+)/i.exec(head);
    if (len) {
      out.push(data.slice(p, p + Number(len[1])));
      at = p + Number(len[1]);
      continue;
    }
    if (!/transfer-encoding: *chunked/i.test(head)) return out;
    let b = '';
    for (;;) {
      const nl = data.indexOf('\r\n', p);
      if (nl < 0) return out;
      const n = parseInt(data.slice(p, nl), 16);
      p = nl + 2;
      if (n === 0) { p += 2; break; }
      b += data.slice(p, p + n);
      p += n + 2;
    }
    out.push(b);
    at = p;
  }
}

for (const engine of ENGINES) {
  describe.skipIf(engine.skip !== null)(titled(engine, 'request bodies that come with their head'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
events {}
http {
  server {
    listen 127.0.0.1:${port};
    location = /sum {
      # Bodies here stay in memory for get_body_data(): past client_body_buffer_size (8k by
      # default) nginx, and tresty, keep them in a temp file and get_body_data() is nil.
      client_body_buffer_size 1m;
      content_by_js_block {
        await ngx.req.read_body();
        const b = ngx.req.get_body_data() ?? '';
        let h = 0;
        for (let i = 0; i < b.length; i++) h = (h * 31 + b.charCodeAt(i)) | 0;
        ngx.print(b.length + ' ' + h);
      }
    }
    location = /stream {
      content_by_js_block {
        let n = 0;
        let h = 0;
        for await (const c of ngx.req.body_stream()) {
          const s = Buffer.from(c).toString('latin1');
          for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
          n += s.length;
        }
        ngx.print(n + ' ' + h);
      }
    }
    location = /ignore { content_by_js_block { ngx.print('ignored'); } }
    location = /late {
      content_by_js_block {
        await new Promise((r) => setTimeout(r, 300));
        await ngx.req.read_body();
        ngx.print(ngx.req.get_body_data() ?? '');
      }
    }
    location = /small {
      client_max_body_size 1k;
      content_by_js_block { await ngx.req.read_body(); ngx.print('read'); }
    }
    location = /hello { content_by_js_block { ngx.print('hello'); } }
    # read_body() answers a body already there without an async frame: still a promise, and a
    # call where it is not allowed still rejects rather than throwing.
    location = /twice {
      content_by_js_block {
        const first = ngx.req.read_body();
        await first;
        const again = ngx.req.read_body();
        await again;
        ngx.print((first instanceof Promise) + ' ' + (again instanceof Promise) + ' ' + ngx.req.get_body_data());
      }
      header_filter_by_js_block {
        let s;
        try { const p = ngx.req.read_body(); s = p instanceof Promise ? 'promise' : 'value'; p.catch(() => {}); } catch { s = 'threw'; }
        ngx.header['X-Read'] = s;
      }
    }
  }
}`, { env: engine.env });
    });
    afterAll(async () => { await t?.stop(); });

    it('reads every size whole: in the head\'s buffer, past it, at the 64 KB limit and over it', async () => {
      for (const n of [1, 100, 512, 3000, 4000, 4096, 5000, 10_240, 65_535, 65_536, 65_537, 200_000]) {
        const b = body(n, n);
        const r = await raw(port, [post('/sum', b, 'Connection: close\r\n')], { timeoutMs: 10_000 });
        expect(statuses(r.data), `${n} bytes`).toEqual([200]);
        expect(bodies(r.data), `${n} bytes`).toEqual([`${n} ${hash(b)}`]);
      }
    });

    it('streams a small body as one piece of the same bytes (body_stream)', async () => {
      const b = body(2000, 7);
      const r = await raw(port, [post('/stream', b, 'Connection: close\r\n')]);
      expect(bodies(r.data)).toEqual([`2000 ${hash(b)}`]);
    });

    it('reads a body split across writes (the rest comes after the head was handed over)', async () => {
      for (const n of [600, 20_000]) {
        const b = body(n, 3);
        const whole = post('/sum', b, 'Connection: close\r\n');
        const cut = whole.indexOf('\r\n\r\n') + 4 + Math.floor(n / 2);
        const r = await raw(port, [whole.slice(0, cut), whole.slice(cut)], { gapMs: 100, timeoutMs: 10_000 });
        expect(bodies(r.data), `${n} bytes`).toEqual([`${n} ${hash(b)}`]);
      }
    });

    it('serves requests pipelined behind a body, read or ignored', async () => {
      const a = body(10_000, 1);
      const b = body(512, 2);
      const c = body(1024, 3);
      const r = await raw(port, [
        post('/sum', a) + post('/ignore', c) + post('/sum', b) + 'GET /hello HTTP/1.1\r\nHost: t\r\n\r\n'
        + post('/sum', '', 'Connection: close\r\n'),
      ], { timeoutMs: 10_000 });
      expect(statuses(r.data)).toEqual([200, 200, 200, 200, 200]);
      expect(bodies(r.data)).toEqual([`10000 ${hash(a)}`, 'ignored', `512 ${hash(b)}`, 'hello', '0 0']);
    });

    it('read_body() gives a promise whether the body is there or not, and rejects where it is not allowed', async () => {
      for (const n of [5, 100_000]) {
        const b = body(n, 9);
        const r = await raw(port, [post('/twice', b, 'Connection: close\r\n')], { timeoutMs: 10_000 });
        expect(statuses(r.data), `${n} bytes`).toEqual([200]);
        expect(r.data, `${n} bytes`).toMatch(/\r\nX-Read: promise\r\n/i);
        expect(bodies(r.data), `${n} bytes`).toEqual([n < 8192 ? `true true ${b}` : 'true true null']);
      }
    });

    it('answers 413 to a small body over client_max_body_size and serves nothing after it', async () => {
      const r = await raw(port, [post('/small', body(2000)) + 'GET /hello HTTP/1.1\r\nHost: t\r\n\r\n']);
      expect(statuses(r.data)).toEqual([413]);
      expect(r.closed).toBe(true);
    });

    // Native engine only, not a skip: node:http answers "100 Continue" itself as soon as the head
    // is in (its checkContinue default), so there the case does not exist.
    if (engine.name === 'native') it('still reads a chunked body only when the handler asks: "100 Continue" waits for it', async () => {
      const s = net.connect(port, '127.0.0.1');
      let data = '';
      s.setEncoding('latin1');
      const got = (re: RegExp): Promise<number> => new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} in ${JSON.stringify(data)}`)), 5000);
        const check = (): void => {
          if (!re.test(data)) return;
          clearTimeout(timer);
          s.off('data', check);
          resolve(performance.now());
        };
        s.on('data', check);
        check();
      });
      s.on('data', (d: string) => { data += d; });
      await new Promise<void>((r) => s.once('connect', () => r()));
      try {
        const t0 = performance.now();
        s.write('POST /late HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
        const t100 = await got(/100 Continue/);
        expect(t100 - t0).toBeGreaterThanOrEqual(250); // the handler waits 300 ms before it reads
        s.write('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
        await got(/\r\nhello world\r\n0\r\n\r\n$/); // chunked, as nginx frames a handler's output
        expect(statuses(data)).toEqual([100, 200]);
      } finally {
        s.destroy();
      }
    });
  });
}
