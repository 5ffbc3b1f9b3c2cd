// A conf as users bring it from nginx, using the response-header, static-file and gzip directives
// together, served by the real bin/tresty.js on both engines: security headers at http level,
// charset, gzip, a cached static folder by alias with expires, a proxied API (add_header on a
// proxied answer, a request header set for the upstream), and Server removed.
import http from 'node:http';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const raw = Buffer.concat(parts);
        const body = res.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body.toString() });
      });
    }).on('error', reject);
  });
}

for (const engine of ['native', 'node']) {
  describe(`an nginx conf with add_header, expires, more_*, charset, alias and gzip (${engine})`, () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      const api = await freePort();
      t = await startTresty(`worker_processes 2; error_log logs/error.log info; events {}
http {
  http_engine ${engine};
  types { text/html html; text/plain txt; application/javascript js; application/json json; }
  charset utf-8;
  gzip on; gzip_types text/plain application/javascript application/json; gzip_min_length 10; gzip_vary on;
  add_header X-Frame-Options SAMEORIGIN always;
  add_header X-Content-Type-Options nosniff;
  server {
    listen 127.0.0.1:${port};
    more_clear_headers Server;
    location / { }
    location /static/ { alias assets/; expires 30d; add_header Cache-Control public; }
    location /api/ { proxy_pass http://127.0.0.1:${api}/; more_set_input_headers "X-From: front"; }
    location = /hello { return 200 "hello world, hello world"; }
  }
  server {
    listen 127.0.0.1:${api};
    add_header X-Upstream yes;
    location / { content_by_js_block { ngx.header.content_type = "application/json"; ngx.say(JSON.stringify({ from: ngx.var.http_x_from, uri: ngx.var.uri })) } }
  }
}`, { files: { 'html/index.html': '<h1>home</h1>\n', 'assets/app.js': `console.log(${JSON.stringify('x'.repeat(100))});\n` } });
    });
    afterAll(async () => { await t?.stop(); });

    it('a return: security headers, charset, gzip, no Server', async () => {
      const r = await get(port, '/hello', { 'Accept-Encoding': 'gzip' });
      expect(r.status).toBe(200);
      expect(r.body).toBe('hello world, hello world');
      expect(r.headers).toMatchObject({
        'x-frame-options': 'SAMEORIGIN', 'x-content-type-options': 'nosniff', 'content-type': 'text/plain; charset=utf-8',
        'content-encoding': 'gzip', vary: 'Accept-Encoding',
      });
      expect(r.headers.server).toBeUndefined();
    });

    it('the index page (text/html, always compressed type) and a 404 (only the `always` header)', async () => {
      const r = await get(port, '/', { 'Accept-Encoding': 'gzip' });
      expect(r.body).toBe('<h1>home</h1>\n');
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.headers['content-encoding']).toBe('gzip');
      const nf = await get(port, '/nope');
      expect(nf.status).toBe(404);
      expect(nf.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(nf.headers['x-content-type-options']).toBeUndefined();
    });

    it('the static folder by alias: expires and its own add_header (the http ones are not inherited)', async () => {
      const r = await get(port, '/static/app.js', { 'Accept-Encoding': 'gzip' });
      expect(r.status).toBe(200);
      expect(r.body).toMatch(/^console\.log\("x+"\);\n$/);
      expect(r.headers['cache-control']).toBe('max-age=2592000, public');
      expect(String(r.headers.expires)).toMatch(/GMT$/);
      expect(r.headers['x-frame-options']).toBeUndefined();
      expect(r.headers['content-type']).toBe('application/javascript; charset=utf-8');
      expect(r.headers['content-encoding']).toBe('gzip');
    });

    it('a proxied answer gets the http-level headers and gzip; the upstream saw the input header', async () => {
      const r = await get(port, '/api/items', { 'Accept-Encoding': 'gzip' });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ from: 'front', uri: '/items' });
      expect(r.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-upstream']).toBe('yes');
      expect(r.headers['content-encoding']).toBe('gzip');
      expect(r.headers['content-type']).toBe('application/json');
    });
  });
}
