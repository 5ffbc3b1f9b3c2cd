// server_tokens on both engines: `off` (tresty's default) names tresty alone in the Server header
// and at the foot of error pages; `on`/`build` add the version, in the shape real nginx gives
// its own name (`nginx/1.22.1`, checked on nginx below). Per location, inherited, as nginx's
// (observed on nginx 1.22): a location or server that says otherwise than http has its own.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx } from './helpers/nginx.js';
import { freePort, httpGet, ROOT, startTresty, stopAll } from './helpers/server.js';
import { sendRaw, latin1 } from './helpers/raw-http.js';

const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

afterAll(stopAll);

async function answers(tokens: string, engineEnv: Record<string, string>, hidden = ''): Promise<{ name: string; page: string; js: string; jsPage: string; bad: string; hidden: string; hiddenPage: string; file: string }> {
  const port = await freePort();
  const t = await startTresty(`worker_processes 1; error_log logs/error.log;
http {
  ${tokens}
  access_log off;
  server {
    listen 127.0.0.1:${port};
    location /static/ { root html; }
    location = /js { content_by_js_block { ngx.say("js") } }
    location = /js404 { content_by_js_block { ngx.exit(404) } }
    location /hidden/ { ${hidden} }
  }
}`, { env: engineEnv, files: { 'html/static/a.txt': 'a' } });
  const page = await httpGet(port, '/static/none');
  const js = await httpGet(port, '/js');
  const jsPage = await httpGet(port, '/js404');
  const bad = await sendRaw(port, latin1('GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n'));
  const hid = await httpGet(port, '/hidden/none');
  // a static file's Server and ETag: server_tokens' plan flag must not read as another (etag off)
  const f = await httpGet(port, '/static/a.txt');
  expect(page.status).toBe(404);
  expect(js.body).toBe('js\n');
  await t.stop();
  return {
    name: String(page.headers.server), page: page.body, js: String(js.headers.server), jsPage: String(jsPage.headers.server) + jsPage.body,
    bad: bad.raw, hidden: String(hid.headers.server), hiddenPage: hid.body,
    file: `${String(f.headers.server)} ${String(f.headers.etag)}`,
  };
}

describe('server_tokens', () => {
  for (const e of ENGINES) {
    it.skipIf(e.skip)(titled(e, 'off by default; on and build add the version; a location off keeps it out of its own answers'), async () => {
      const dflt = await answers('', e.env);
      expect(dflt.name).toBe('tresty');
      expect(dflt.js).toBe('tresty');
      expect(dflt.file).toMatch(/^tresty "[0-9a-f]+-[0-9a-f]+"$/);
      expect(dflt.page).toContain('<hr><center>tresty</center>');
      expect(dflt.jsPage).toMatch(/^tresty<html>[\s\S]*<hr><center>tresty<\/center>/);
      expect(dflt.bad).toMatch(/\r\nServer: tresty\r\n[\s\S]*<center>tresty<\/center>/);

      const on = await answers('server_tokens on;', e.env);
      expect(on.name).toBe(`tresty/${VERSION}`);
      expect(on.js).toBe(`tresty/${VERSION}`);
      expect(on.file).toMatch(new RegExp(`^tresty/${VERSION.replace(/\./g, '\\.')} "[0-9a-f]+-[0-9a-f]+"$`));
      expect(on.page).toContain(`<hr><center>tresty/${VERSION}</center>`);
      expect(on.jsPage).toMatch(new RegExp(`^tresty/${VERSION}<html>[\\s\\S]*<hr><center>tresty/${VERSION}</center>`));
      expect(on.bad).toMatch(new RegExp(`\\r\\nServer: tresty/${VERSION}\\r\\n[\\s\\S]*<center>tresty/${VERSION}</center>`));

      expect((await answers('server_tokens build;', e.env)).name).toBe(`tresty/${VERSION}`);
      // A location that says off keeps the version out of its own answers only.
      const mixed = await answers('server_tokens on;', e.env, 'server_tokens off;');
      expect(mixed.name).toBe(`tresty/${VERSION}`);
      expect(mixed.hidden).toBe('tresty');
      expect(mixed.hiddenPage).toContain('<hr><center>tresty</center>');
    }, 60_000);

    it.skipIf(e.skip)(titled(e, 'per server and location, inherited: static, return, a handler and their pages'), async () => {
      const port = await freePort();
      const t = await startTresty(`worker_processes 1; error_log logs/error.log;
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    server_tokens on;
    location /on/ { root html; }
    location /off/ { server_tokens off; root html; }
    location = /offr { server_tokens off; return 200 "x"; }
    location = /onr { return 404; }
    location = /offjs { server_tokens off; content_by_js_block { ngx.exit(404) } }
    location = /onjs { content_by_js_block { ngx.say("js") } }
  }
}`, { env: e.env });
      try {
        const got = async (p: string): Promise<string> => {
          const r = await httpGet(port, p);
          const foot = /<center>(tresty[^<]*)<\/center>/.exec(r.body)?.[1] ?? '-';
          return `${String(r.headers.server)} ${foot}`;
        };
        const v = `tresty/${VERSION}`;
        expect(await got('/on/none')).toBe(`${v} ${v}`);
        expect(await got('/off/none')).toBe('tresty tresty');
        expect(await got('/offr')).toBe('tresty -');
        expect(await got('/onr')).toBe(`${v} ${v}`);
        expect(await got('/offjs')).toBe('tresty tresty');
        expect(await got('/onjs')).toBe(`${v} -`);
      } finally {
        await t.stop();
      }
    }, 60_000);
  }

  it('a bad value is a conf error', async () => {
    const port = await freePort();
    await expect(startTresty(`http { server_tokens yes; server { listen 127.0.0.1:${port}; } }`)).rejects.toThrow(
      /invalid value "yes" in "server_tokens" directive, it must be "on", "off" or "build"/);
  });

  it.skipIf(nginxMissing())('nginx 1.22 has it per location: a location with off under an http on names nginx alone', async () => {
    const n = await startNginx('location /on/ { root html; } location /off/ { server_tokens off; root html; } location = /offr { server_tokens off; return 200 "x"; }', 'server_tokens on;');
    try {
      const on = await httpGet(n.port, '/on/none');
      const off = await httpGet(n.port, '/off/none');
      expect(on.headers.server).toMatch(/^nginx\/\d/);
      expect([off.headers.server, /<center>(nginx[^<]*)<\/center>/.exec(off.body)?.[1]]).toEqual(['nginx', 'nginx']);
      expect((await httpGet(n.port, '/offr')).headers.server).toBe('nginx');
    } finally {
      await n.stop();
    }
  });

  it.skipIf(nginxMissing())('nginx 1.22 gives its name the same way (on: name/version in Server and pages, off: the name alone)', async () => {
    for (const [tokens, re] of [['on', /^nginx\/\d+\.\d+\.\d+$/], ['off', /^nginx$/]] as const) {
      const n = await startNginx('location /static/ { root html; }', `server_tokens ${tokens};`);
      try {
        const r = await httpGet(n.port, '/static/none');
        expect(r.headers.server).toMatch(re);
        expect(r.body).toContain(`<hr><center>${String(r.headers.server)}</center>`);
      } finally {
        await n.stop();
      }
    }
  });
});
