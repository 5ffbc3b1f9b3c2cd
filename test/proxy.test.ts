// proxy_pass through the real server to real upstreams (small Node servers, and nginx): nginx's
// URI rules, the headers sent and the headers passed back, proxy_pass_request_headers/_body, and
// keep-alive reuse counted on the upstream's side.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, runTresty, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';
import { echo, eventually, startUpstream, type Upstream } from './helpers/upstream.js';

let t: TrestyProcess;
let port: number;
let up: Upstream;
let ka: Upstream;
let hdr: Upstream;

interface Echo { url: string; method: string; httpVersion: string; rawHeaders: string[]; headers: Record<string, string>; bodyBytes: number }

const get = async (path: string, opts: Parameters<typeof httpGet>[2] = {}): Promise<Echo> => {
  const r = await httpGet(port, path, opts);
  expect(r.status, r.body).toBe(200);
  return JSON.parse(r.body) as Echo;
};

afterAll(async () => {
  await stopAll();
  await Promise.all([up, ka, hdr].map((u) => u?.close()));
});

beforeAll(async () => {
  up = await startUpstream();
  ka = await startUpstream(undefined, { name: 'ka' });
  hdr = await startUpstream((_req, res, seen) => {
    res.setHeader('Server', 'upstream/1.0');
    res.setHeader('X-Secret', 'hidden');
    res.setHeader('X-Accel-Redirect', '/internal');
    res.setHeader('X-Pad', 'pad');
    res.setHeader('X-Kept', 'kept');
    res.setHeader('Set-Cookie', ['a=1', 'b=2']);
    // A relative Location passes as it came (nginx makes absolute only what was absolute).
    res.setHeader('Location', _req.url?.endsWith('/rel') ? '/two/next' : `http://127.0.0.1:${hdr.port}/two/next`);
    echo('hdr')(_req, res, seen);
  });
  port = await freePort();
  const U = `127.0.0.1:${up.port}`;
  t = await startTresty(`
worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  upstream ka { server 127.0.0.1:${ka.port}; keepalive 8; }
  proxy_set_header X-From-Http yes;
  server {
    listen 127.0.0.1:${port};
    location /with/ { proxy_pass http://${U}/target/; }
    location /without/ { proxy_pass http://${U}; }
    location = /exact { proxy_pass http://${U}/other; }
    location ~ ^/regex/ { proxy_pass http://${U}; }
    location /var/ { set $up ${U}; proxy_pass http://$up; }
    location /varuri/ { set $up ${U}; proxy_pass http://$up/fixed$is_args$args; }
    location /changed/ {
      rewrite_by_js_block { ngx.req.set_uri('/moved/a b'); }
      proxy_pass http://${U}/t/;
    }
    location /inherit/ { proxy_pass http://${U}; }
    location /headers/ {
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-FF $proxy_add_x_forwarded_for;
      proxy_set_header Accept-Encoding "";
      proxy_set_header Host $host;
      proxy_set_header X-Proxy-Host $proxy_host;
      proxy_pass http://${U};
    }
    location /setheader/ {
      access_by_js_block { ngx.req.set_header('X-Added', 'by-access'); ngx.req.clear_header('X-Drop'); }
      proxy_pass http://${U};
    }
    location /nohdr/ { proxy_pass_request_headers off; proxy_pass http://${U}; }
    location /nobody/ { proxy_pass_request_body off; proxy_pass http://${U}; }
    location /method/ { proxy_method POST; proxy_pass http://${U}; }
    location /back/ { proxy_hide_header X-Secret; proxy_pass_header Server; proxy_pass http://127.0.0.1:${hdr.port}/two/; }
    location /noredirect/ { proxy_redirect off; proxy_pass http://127.0.0.1:${hdr.port}/two/; }
    location /ka/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://ka; }
    location /noka/ { proxy_pass http://127.0.0.1:${ka.port}; }
  }
}
`);
});

describe('proxy_pass URI rules (nginx)', () => {
  it('with a URI part, replaces the matched location prefix, on the normalized URI', async () => {
    expect((await get('/with/a/b?x=1')).url).toBe('/target/a/b?x=1');
    expect((await get('/with/a%20b/../c')).url).toBe('/target/c');
    expect((await get('/with/sp%20ace')).url).toBe('/target/sp%20ace');
  });

  it('without a URI part, passes the request URI as the client sent it', async () => {
    expect((await get('/without/a%41b/../c?q=%20')).url).toBe('/without/a%41b/../c?q=%20');
  });

  it('an exact location with a URI part replaces the whole URI', async () => {
    expect((await get('/exact?k=v')).url).toBe('/other?k=v');
  });

  it('a regex location passes the URI unchanged', async () => {
    expect((await get('/regex/x%2Fy')).url).toBe('/regex/x%2Fy');
  });

  it('variables: the host from a variable, the request URI kept', async () => {
    expect((await get('/var/p?q=1')).url).toBe('/var/p?q=1');
  });

  it('variables with a URI part: that URI is sent as it is', async () => {
    expect((await get('/varuri/ignored?a=b')).url).toBe('/fixed?a=b');
  });

  it('a URI changed in the location is passed whole (the URI part does not apply)', async () => {
    expect((await get('/changed/x')).url).toBe('/moved/a%20b');
  });
});

describe('headers to the upstream', () => {
  it('sends nginx defaults: HTTP/1.0, Host $proxy_host, Connection close, the client headers', async () => {
    const e = await get('/without/', { headers: { 'X-Client': 'c', TE: 'trailers', Upgrade: 'h2c' } });
    expect(e.httpVersion).toBe('1.0');
    expect(e.headers.host).toBe(`127.0.0.1:${up.port}`);
    expect(e.headers.connection).toBe('close');
    expect(e.headers['x-client']).toBe('c');
    expect(e.headers.te).toBeUndefined();
    expect(e.headers.upgrade).toBeUndefined();
  });

  it('proxy_set_header: variables, $proxy_add_x_forwarded_for, an empty value drops the header', async () => {
    const e = await get('/headers/', { headers: { 'X-Forwarded-For': '10.0.0.1', 'Accept-Encoding': 'gzip', Host: 'front.test' } });
    expect(e.headers['x-real-ip']).toBe('127.0.0.1');
    expect(e.headers['x-ff']).toBe('10.0.0.1, 127.0.0.1');
    expect(e.headers['accept-encoding']).toBeUndefined();
    expect(e.headers.host).toBe('front.test');
    expect(e.headers['x-proxy-host']).toBe(`127.0.0.1:${up.port}`);
    // A level with its own proxy_set_header does not inherit the http level's.
    expect(e.headers['x-from-http']).toBeUndefined();
    expect((await get('/inherit/')).headers['x-from-http']).toBe('yes');
  });

  it('headers changed by ngx.req.set_header in access are the ones sent', async () => {
    const e = await get('/setheader/', { headers: { 'X-Drop': 'x', 'X-Keep': 'k' } });
    expect(e.headers['x-added']).toBe('by-access');
    expect(e.headers['x-drop']).toBeUndefined();
    expect(e.headers['x-keep']).toBe('k');
  });

  it('proxy_pass_request_headers off sends only the proxy\'s own headers', async () => {
    const e = await get('/nohdr/', { headers: { 'X-Client': 'c' } });
    expect(e.headers['x-client']).toBeUndefined();
    expect(e.headers.host).toBeDefined();
  });

  it('passes the body with its length; proxy_pass_request_body off drops it', async () => {
    const a = await get('/without/', { method: 'POST', body: 'x'.repeat(1000) });
    expect(a.bodyBytes).toBe(1000);
    expect(a.headers['content-length']).toBe('1000');
    const b = await get('/nobody/', { method: 'POST', body: 'x'.repeat(1000) });
    expect(b.bodyBytes).toBe(0);
    expect(b.headers['content-length']).toBeUndefined();
  });

  it('proxy_method changes the method sent', async () => {
    expect((await get('/method/')).method).toBe('POST');
  });
});

describe('headers from the upstream', () => {
  it('hides Date, Server, X-Pad and X-Accel-*, honours proxy_hide_header and proxy_pass_header, keeps the rest', async () => {
    const r = await httpGet(port, '/back/x');
    expect(r.status).toBe(200);
    expect(r.headers['x-secret']).toBeUndefined();
    expect(r.headers['x-accel-redirect']).toBeUndefined();
    expect(r.headers['x-pad']).toBeUndefined();
    expect(r.headers.server).toBe('upstream/1.0');
    expect(r.headers['x-kept']).toBe('kept');
    expect(r.headers['set-cookie']).toEqual(['a=1', 'b=2']);
  });

  it('proxy_redirect default maps the upstream URL back to the location; off leaves it', async () => {
    expect((await httpGet(port, '/back/x')).headers.location).toBe(`http://127.0.0.1:${port}/back/next`);
    expect((await httpGet(port, '/noredirect/x')).headers.location).toBe(`http://127.0.0.1:${hdr.port}/two/next`);
    // Checked against nginx 1.22: a relative upstream Location is neither mapped nor made absolute.
    expect((await httpGet(port, '/back/rel')).headers.location).toBe('/two/next');
    expect((await httpGet(port, '/back/x', { headers: { host: 'example.com' } })).headers.location).toBe(`http://example.com:${port}/back/next`);
  });
});

describe('keep-alive to the upstream', () => {
  it('reuses connections with keepalive, HTTP/1.1 and Connection ""', async () => {
    const before = { c: ka.connections, r: ka.requests };
    for (let i = 0; i < 10; i++) {
      const e = await get(`/ka/${i}`);
      expect(e.httpVersion).toBe('1.1');
      expect(e.headers.connection).toBe(undefined);
    }
    expect(ka.requests - before.r).toBe(10);
    expect(ka.connections - before.c).toBe(1);
  });

  it('opens a connection per request with nginx\'s default Connection: close', async () => {
    const before = { c: ka.connections, r: ka.requests };
    for (let i = 0; i < 5; i++) await get(`/noka/${i}`);
    expect(ka.requests - before.r).toBe(5);
    expect(ka.connections - before.c).toBe(5);
  });

  it('keeps using one connection per concurrent request at most', async () => {
    const before = ka.connections;
    await Promise.all(Array.from({ length: 6 }, (_, i) => get(`/ka/c${i}`, { keepAlive: false })));
    for (let i = 0; i < 6; i++) await get(`/ka/s${i}`);
    expect(ka.connections - before).toBeLessThanOrEqual(6);
    expect(t.errorLog()).not.toMatch(/\[(error|alert)\]/);
  });
});

// nginx as the upstream (installed here and in CI): byte-exact bodies, and keep-alive reuse seen
// from nginx's own log ($connection and $connection_requests).
const nginxMissing = spawnSync('sh', ['-c', 'command -v nginx'], { stdio: 'ignore' }).status !== 0;
if (nginxMissing) console.warn('nginx upstream tests skipped: nginx is not installed (Debian: apt-get install nginx)');

describe.skipIf(nginxMissing)('nginx as the upstream', () => {
  let dir: string;
  let nginx: ChildProcess;
  let tport: number;
  let t2: TrestyProcess;
  const big = Buffer.alloc(100 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-nginx-up-'));
    fs.mkdirSync(path.join(dir, 'www'));
    fs.writeFileSync(path.join(dir, 'www', 'big.bin'), big);
    fs.writeFileSync(path.join(dir, 'www', 'small.txt'), 'small file\n');
    const nport = await freePort();
    fs.writeFileSync(path.join(dir, 'nginx.conf'), `daemon off; master_process off; worker_processes 1;
pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events {}
http { log_format c '$connection $connection_requests $request_uri';
  access_log ${dir}/access.log c;
  server { listen 127.0.0.1:${nport}; root ${dir}/www; location / { } } }`);
    nginx = spawn('nginx', ['-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], { stdio: 'ignore' });
    tport = await freePort();
    t2 = await startTresty(`
worker_processes 1;
events {}
http {
  access_log off;
  upstream ngx { server 127.0.0.1:${nport}; keepalive 4; }
  server {
    listen 127.0.0.1:${tport};
    location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://ngx; }
  }
}
`);
  });

  afterAll(() => {
    nginx?.kill('SIGKILL');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('passes files byte for byte, with their length', async () => {
    const body = await new Promise<Buffer>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: tport, path: '/big.bin', agent: false }, (res) => {
        expect(res.headers['content-length']).toBe(String(big.length));
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      }).on('error', reject);
    });
    expect(body.equals(big)).toBe(true);
    expect((await httpGet(tport, '/small.txt')).body).toBe('small file\n');
  });

  it('reuses one nginx connection for sequential requests (nginx\'s $connection_requests counts up)', async () => {
    for (let i = 0; i < 8; i++) expect((await httpGet(tport, `/small.txt?n=${i}`)).status).toBe(200);
    const file = path.join(dir, 'access.log');
    const text = await eventually(() => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''), /small\.txt\?n=7/);
    const lines = text.trim().split('\n').map((l) => l.split(' ')).filter((l) => l[2]?.startsWith('/small.txt?n='));
    expect(lines).toHaveLength(8);
    expect(new Set(lines.map((l) => l[0])).size).toBe(1);
    expect(Number(lines.at(-1)![1]) - Number(lines[0]![1])).toBe(7);
  });
});

describe('upstream addresses', () => {
  let sockDir: string;
  let unixUp: http.Server;
  let tp: number;

  beforeAll(async () => {
    sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-unix-up-'));
    const sock = path.join(sockDir, 'up.sock');
    unixUp = http.createServer((req, res) => res.end(`unix ${req.url} ${req.headers.host}`));
    await new Promise<void>((r) => unixUp.listen(sock, () => r()));
    tp = await freePort();
    await startTresty(`
worker_processes 1;
events {}
http {
  access_log off;
  upstream byname { server localhost:${up.port}; }
  server {
    listen 127.0.0.1:${tp};
    location /unix/ { proxy_pass http://unix:${sock}:/u/; }
    location /byname/ { proxy_pass http://byname; }
  }
}
`);
  });

  afterAll(() => {
    unixUp?.close();
    if (sockDir) fs.rmSync(sockDir, { recursive: true, force: true });
  });

  it('proxies to a unix socket (with a URI part)', async () => {
    const r = await httpGet(tp, '/unix/x');
    expect(r.body).toBe('unix /u/x localhost'); // nginx's Host for a unix socket
  });

  it('resolves a host name in a server line when the worker starts', async () => {
    const r = await httpGet(tp, '/byname/y');
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as Echo).url).toBe('/byname/y');
  });

  it('tresty -t refuses a server whose host name does not resolve, naming the line', async () => {
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-dns-'));
    fs.mkdirSync(path.join(prefix, 'conf'));
    fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'),
      'events {}\nhttp {\n  upstream u {\n    server no-such-host.invalid;\n  }\n  server { listen 127.0.0.1:1; location / { proxy_pass http://u; } }\n}\n');
    const r = await runTresty(['-p', prefix, '-t']);
    fs.rmSync(prefix, { recursive: true, force: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/host not found in upstream "no-such-host\.invalid" in .*nginx\.conf:4/);
  });
});
