// The HTTP front through the real server: virtual servers, client_max_body_size,
// keepalive_timeout, keep-alive connections.
import fs from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';

let t: TrestyProcess;
let port: number;
let port2: number;

afterAll(async () => { await stopAll(); });

describe('http front', () => {
  beforeAll(async () => {
    port = await freePort();
    port2 = await freePort();
    t = await startTresty(`
worker_processes 1;
events {}
http {
  client_max_body_size 100;
  server {
    listen 127.0.0.1:${port};
    server_name first.test;
    location / { return 200 "first"; }
    location /small/ { client_max_body_size 10; return 200 "small"; }
    location /big/ { client_max_body_size 0; return 200 "big"; }
  }
  server {
    listen 127.0.0.1:${port} default_server;
    server_name *.example.com;
    location / { return 200 "wild"; }
  }
  server {
    listen 127.0.0.1:${port};
    server_name ~^api\\d+\\.test$;
    location / { return 200 "regex"; }
  }
  server {
    listen 127.0.0.1:${port2};
    keepalive_timeout 0;
    location / { return 200 "noka"; }
  }
}
`);
  });

  it.each([
    ['first.test', 'first'],
    ['FIRST.test:80', 'first'],
    ['a.example.com', 'wild'],
    ['api7.test', 'regex'],
    ['unknown.test', 'wild'], // default_server
  ])('Host %s is served by %s', async (host, body) => {
    const r = await httpGet(port, '/', { headers: { Host: host } });
    expect(r.body).toBe(body);
  });

  it('answers 413 to a Content-Length over client_max_body_size of the location', async () => {
    const post = (path: string, size: number) => httpGet(port, path, { method: 'POST', body: 'x'.repeat(size), headers: { Host: 'first.test' } });
    expect((await post('/small/', 10)).status).toBe(200);
    const over = await post('/small/', 11);
    expect(over.status).toBe(413);
    expect(over.body).toContain('413 Request Entity Too Large');
    expect((await post('/', 100)).status).toBe(200);
    expect((await post('/', 101)).status).toBe(413);
    expect((await post('/big/', 5000)).status).toBe(200); // 0 = no limit
    expect(t.errorLog()).toMatch(/\[error\] \d+#0: .*client intended to send too large body: 11 bytes/);
  });

  it('keeps connections alive, and keepalive_timeout 0 closes them', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const get = (p: number) => new Promise<{ conn: string | undefined; socket: unknown }>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: p, path: '/', agent, headers: { Host: 'first.test' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ conn: res.headers.connection, socket: res.socket }));
        }).on('error', reject);
      });
      const a = await get(port);
      const b = await get(port);
      expect(a.conn).toBe('keep-alive');
      expect(b.socket).toBe(a.socket);
      expect((await get(port2)).conn).toBe('close');
    } finally {
      agent.destroy();
    }
  });
});

describe('worker_connections', () => {
  // Both engines do what nginx does (issue 11, item 1): they close the oldest idle keep-alive
  // connection to make room, with a [warn], instead of refusing the new one.
  it('makes room by closing the oldest idle connection', async () => {
    const { default: net } = await import('node:net');
    const p = await freePort();
    const w = await startTresty(`worker_processes 1;\nerror_log logs/error.log warn;\nevents { worker_connections 2; }\nhttp { server { listen 127.0.0.1:${p}; location / { return 200 "ok"; } } }\n`);
    const open = (): Promise<{ socket: import('node:net').Socket; answer: Promise<string> }> => new Promise((resolve) => {
      const socket = net.connect(p, '127.0.0.1');
      socket.on('error', () => { /* the refused one is reset */ });
      socket.once('connect', () => {
        socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
        resolve({ socket, answer: new Promise((r) => {
          socket.once('data', (d) => r(String(d).split('\r\n')[0]!));
          socket.once('close', () => r('closed'));
        }) });
      });
    });
    const conns = [await open(), await open()];
    expect(await conns[0]!.answer).toBe('HTTP/1.1 200 OK');
    expect(await conns[1]!.answer).toBe('HTTP/1.1 200 OK');
    const firstClosed = new Promise((r) => conns[0]!.socket.once('close', () => r(true)));
    const third = await open();
    expect(await third.answer).toBe('HTTP/1.1 200 OK');
    expect(await firstClosed).toBe(true);
    for (const c of [...conns, third]) c.socket.destroy();
    await w.stop({ keepPrefix: true });
    try {
      expect(w.errorLog()).toMatch(/\[warn\] \d+#0: 2 worker_connections are not enough, reusing connections/);
    } finally {
      fs.rmSync(w.prefix, { recursive: true, force: true });
    }
  });
});

describe('client_max_body_size with a chunked body', () => {
  it('is answered 413 once the body grows past the limit', async () => {
    const p = await freePort();
    await startTresty(`worker_processes 1;\nevents {}\nhttp { server { listen 127.0.0.1:${p};
      location / { client_max_body_size 10; content_by_js_block { await ngx.req.read_body(); ngx.say("got ", ngx.req.get_body_data()); } } } }\n`);
    const send = (chunks: string[]) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: p, path: '/', method: 'POST', agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      for (const c of chunks) req.write(c); // no Content-Length: chunked
      req.end();
    });
    expect(await send(['12345', '67890'])).toEqual({ status: 200, body: 'got 1234567890\n' });
    expect((await send(['12345', '67890', 'x'])).status).toBe(413);
  });
});
