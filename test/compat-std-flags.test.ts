// nginx's on/off http flags on both engines, with the same expectations checked on real nginx:
// the Location of nginx's own redirects (absolute_redirect, server_name_in_redirect,
// port_in_redirect; a directory without its slash, `return 301 /path`), merge_slashes,
// log_not_found and chunked_transfer_encoding.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx } from './helpers/nginx.js';
import { freePort, httpGet, startTresty, stopAll } from './helpers/server.js';

afterAll(stopAll);

const FILES = { 'html/dir/index.html': 'd', 'html/rd/sub/index.html': 's' };

const server = (prefix: string, slow: string): string => `
    server_name example.test;
    root ${prefix}html;
    location / { }
    location /rd/ { absolute_redirect off; }
    location = /ret { return 301 /path?a=1; }
    location = /rel { absolute_redirect off; return 302 /path; }
    location = /sn { server_name_in_redirect on; return 301 /path; }
    location = /np { port_in_redirect off; return 301 /path; }
    location = /both { server_name_in_redirect on; port_in_redirect off; return 301 /path; }
    location /x { return 200 "$uri"; }
    location = /nolog { log_not_found off; }
    location = /chunk { ${slow} }
    location = /nochunk { chunked_transfer_encoding off; ${slow} }`;

const JS_SLOW = 'content_by_js_block { ngx.say("a"); await ngx.flush(true); ngx.say("b") }';
const LUA_SLOW = 'content_by_lua_block { ngx.say("a") ngx.flush(true) ngx.say("b") }';

/** The head (no Date/Server) and body of one answer read to the connection's end or 1.5 s. */
function raw(port: number, p: string): Promise<{ head: string[]; body: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    let closed = false;
    const done = (): void => {
      s.destroy();
      const i = data.indexOf('\r\n\r\n');
      const head = data.slice(0, i).split('\r\n').filter((l) => !/^(date|server):/i.test(l));
      resolve({ head, body: data.slice(i + 4), closed });
    };
    const timer = setTimeout(done, 1500);
    s.on('data', (d: Buffer) => { data += d.toString('latin1'); });
    s.on('end', () => { closed = true; clearTimeout(timer); done(); });
    s.on('error', reject);
    s.write(`GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`);
  });
}

async function observe(port: number, errorLog: () => string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const loc = async (p: string): Promise<string> => {
    const r = await httpGet(port, p, { headers: { host: 'foo.bar:9999' } });
    return `${r.status} ${String(r.headers.location).replace(String(port), 'PORT')}`;
  };
  for (const p of ['/dir', '/dir?q=1', '/rd/sub', '/ret', '/rel', '/sn', '/np', '/both']) out[p] = await loc(p);
  out['/x//y//z'] = (await httpGet(port, '/x//y//z')).body;
  await httpGet(port, '/nolog');
  await httpGet(port, '/missing');
  await new Promise((r) => setTimeout(r, 300));
  out.logged = errorLog().match(/open\(\) "[^"]*\/(nolog|missing)" failed/g)?.map((l) => l.replace(/"[^"]*\//, '"')) ?? [];
  out.chunk = await raw(port, '/chunk');
  out.nochunk = await raw(port, '/nochunk');
  return out;
}

const EXPECTED = {
  '/dir': '301 http://foo.bar:PORT/dir/',
  '/dir?q=1': '301 http://foo.bar:PORT/dir/?q=1',
  '/rd/sub': '301 /rd/sub/',
  '/ret': '301 http://foo.bar:PORT/path?a=1',
  '/rel': '302 /path',
  '/sn': '301 http://example.test:PORT/path',
  '/np': '301 http://foo.bar/path',
  '/both': '301 http://example.test/path',
  '/x//y//z': '/x/y/z',
  logged: ['open() "missing" failed'],
  chunk: { head: ['HTTP/1.1 200 OK', 'Content-Type: text/plain', 'Transfer-Encoding: chunked', 'Connection: keep-alive'], body: '2\r\na\n\r\n2\r\nb\n\r\n0\r\n\r\n', closed: false },
  nochunk: { head: ['HTTP/1.1 200 OK', 'Content-Type: text/plain', 'Connection: close'], body: 'a\nb\n', closed: true },
};

describe('nginx\'s http flags', () => {
  for (const e of ENGINES) {
    it.skipIf(e.skip)(titled(e, 'redirects, merge_slashes on, log_not_found, chunked_transfer_encoding'), async () => {
      const port = await freePort();
      const t = await startTresty(`worker_processes 1; error_log logs/error.log;
http { access_log off; default_type text/plain; server { listen 127.0.0.1:${port}; ${server('', JS_SLOW)} } }`, { env: e.env, files: FILES });
      expect(await observe(port, () => t.errorLog())).toEqual(EXPECTED);
      await t.stop();
    }, 60_000);

    it.skipIf(e.skip)(titled(e, 'merge_slashes off keeps the slashes in $uri'), async () => {
      const port = await freePort();
      const t = await startTresty(`worker_processes 1; http { access_log off; merge_slashes off;
server { listen 127.0.0.1:${port}; location /x { return 200 "$uri"; } location /x/y { return 200 "y"; } } }`, { env: e.env });
      expect((await httpGet(port, '/x//y//z')).body).toBe('/x//y//z');
      expect((await httpGet(port, '/x/y/z')).body).toBe('y');
      await t.stop();
    }, 60_000);
  }

  it.skipIf(nginxMissing())('nginx 1.22 gives the same answers', async () => {
    const n = await startNginx(server('__PREFIX__/', LUA_SLOW), 'default_type text/plain;', FILES);
    try {
      expect(await observe(n.port, () => n.errorLog())).toEqual(EXPECTED);
    } finally {
      await n.stop();
    }
    const m = await startNginx('location /x { return 200 "$uri"; } location /x/y { return 200 "y"; }', 'merge_slashes off;');
    try {
      expect((await httpGet(m.port, '/x//y//z')).body).toBe('/x//y//z');
      expect((await httpGet(m.port, '/x/y/z')).body).toBe('y');
    } finally {
      await m.stop();
    }
  });
});

const LOGGING = (prefix: string, lua: boolean): string => `
    access_log ${prefix}sub.log uris;
    location = /a { set $b 1; return 200 "a"; }
    location = /u { set $x "[$b]"; return 200 "$x"; }
    location = /q { uninitialized_variable_warn off; set $x "[$b]"; return 200 "$x"; }
    location = /sub-on { log_subrequest on; return 200 "s"; }
    location = /sub-off { return 200 "s"; }
    location = /cap { ${lua
    ? 'content_by_lua_block { ngx.location.capture("/sub-on") ngx.location.capture("/sub-off") ngx.say("ok") }'
    : 'content_by_js_block { await ngx.location.capture("/sub-on"); await ngx.location.capture("/sub-off"); ngx.say("ok") }'} }`;

async function logging(port: number, errorLog: () => string, accessLog: () => string): Promise<Record<string, unknown>> {
  const bodies = [];
  for (const p of ['/u', '/q', '/cap']) bodies.push((await httpGet(port, p)).body);
  for (let i = 0; i < 40 && accessLog().trim().split('\n').length < 4; i++) await new Promise((r) => setTimeout(r, 50));
  return {
    bodies,
    warned: errorLog().match(/\[warn\].*using uninitialized "\w+" variable.*request: "[^"]*"/g)?.map((l) => l.replace(/^.*\[warn\][^*]*\*\d+ /, '')) ?? [],
    access: accessLog().trim().split('\n'),
  };
}

const LOGGED = {
  bodies: ['[]', '[]', 'ok\n'],
  warned: ['using uninitialized "b" variable, client: 127.0.0.1, server: , request: "GET /u HTTP/1.1"'],
  access: ['/u 200', '/q 200', '/sub-on 200', '/cap 200'],
};

describe('uninitialized_variable_warn and log_subrequest', () => {
  const read = (p: string) => (): string => { try { return fs.readFileSync(p, 'utf8'); } catch { return ''; } };
  for (const e of ENGINES) {
    it.skipIf(e.skip)(titled(e, 'a set variable read unset warns once, unless off; a subrequest is logged where log_subrequest is on'), async () => {
      const port = await freePort();
      const t = await startTresty(`worker_processes 1; error_log logs/error.log warn;
http { log_format uris '$uri $status'; server { listen 127.0.0.1:${port}; ${LOGGING('logs/', false)} } }`, { env: e.env });
      expect(await logging(port, () => t.errorLog(), read(path.join(t.prefix, 'logs', 'sub.log')))).toEqual(LOGGED);
      await t.stop();
    }, 60_000);
  }

  it.skipIf(nginxMissing())('nginx 1.22 gives the same', async () => {
    const n = await startNginx(LOGGING('__PREFIX__/', true), "log_format uris '$uri $status';");
    try {
      expect(await logging(n.port, () => n.errorLog(), read(path.join(n.prefix, 'sub.log')))).toEqual(LOGGED);
    } finally {
      await n.stop();
    }
  });
});
