// Which locations the native engine answers without JS (src/http/native-plan.ts): only those the
// pipeline would answer with no JS at all; anything else, including conf it does not know, goes to JS.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConf } from '../src/config/index.js';
import type { HttpConf } from '../src/config/types.js';
import { buildPlan } from '../src/http/native-plan.js';
import { planBinds } from '../src/http/vhost.js';

const ACT = ['js', 'static', 'return'];

function planOf(http: string, change: (h: HttpConf) => HttpConf = (h) => h): { actions: Record<string, string>; servers: number[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-plan-'));
  try {
    fs.writeFileSync(path.join(dir, 'nginx.conf'), `http { ${http} }`);
    const conf = { ...loadConf({ file: 'nginx.conf', prefix: dir }).conf, http: change(loadConf({ file: 'nginx.conf', prefix: dir }).conf.http!) };
    const plan = buildPlan(conf.http, { txt: 'text/plain' });
    // Read the actions back from the plan as the engine does: u32 version, types, then locations.
    const b = plan.buf;
    let o = 4;
    const u32 = (): number => { const v = b.readUInt32LE(o); o += 4; return v; };
    const str = (): string => { const n = u32(); const s = b.toString('utf8', o, o + n); o += (n + 3) & ~3; return s; };
    for (let i = u32(); i > 0; i--) { str(); str(); }
    const actions: Record<string, string> = {};
    const n = u32();
    for (let i = 0; i < n; i++) {
      u32();
      const act = ACT[u32()]!;
      const pattern = str();
      u32();
      for (let k = u32(); k > 0; k--) u32();
      str();
      for (let k = u32(); k > 0; k--) str();
      str(); u32(); u32(); str(); u32(); str(); str();
      actions[pattern || '(server)'] = act;
    }
    return { actions, servers: planBinds(conf.http).map((bd) => plan.serverFor(bd)) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the native plan', () => {
  it('answers static and constant returns natively; handlers, variables and other ops go to JS', () => {
    const { actions, servers } = planOf(`server { listen 127.0.0.1:1;
      location /static/ { root html; }
      location = /ret { return 200 "ok"; }
      location = /redir { return 302 https://example.org/; }
      location = /var { return 200 "$uri"; }
      location = /set { set $a 1; return 200 "ok"; }
      location = /content { content_by_js_block { ngx.say(1); } }
      location = /logjs { log_by_js_block { } }
      location = /filter { header_filter_by_js_block { } }
      location /outer/ { location /outer/js { access_by_js_block { } } }
    }`);
    expect(actions).toEqual({
      '(server)': 'static', '/static/': 'static', '/ret': 'return', '/redir': 'return', '/var': 'js', '/set': 'js',
      '/content': 'js', '/logjs': 'js', '/filter': 'js', '/outer/': 'static', '/outer/js': 'js',
    });
    expect(servers).toEqual([0]);
  });

  it('constant add_headers stay native (the engine writes them); expires, more_*, add_header with variables, alias, etag off, if_modified_since off|before and gzip send a location to JS; their defaults keep the native routes', () => {
    const { actions } = planOf(`server { listen 127.0.0.1:1;
      location /plain/ { root html; }
      location = /ret { return 200 "ok"; }
      location /add/ { add_header X-A a; add_header X-B b always; }
      location /addvar/ { add_header X-A $uri; }
      location /addlm/ { add_header Last-Modified x; }
      location /exp/ { expires 1h; location /exp/off/ { expires off; } }
      location /more/ { more_set_headers "X-A: a"; }
      location /in/ { more_set_input_headers "X-A: a"; }
      location /alias/ { alias /srv/; }
      location /noetag/ { etag off; }
      location /ims/ { if_modified_since before; }
      location /etagon/ { etag on; if_modified_since exact; }
      location /gzip/ { gzip on; }
      location /gzoff/ { gzip off; gzip_types text/css; gzip_vary on; gzip_comp_level 5; gzip_buffers 4 8k; charset off; override_charset off; }
    }
    server { listen 127.0.0.1:2; add_header X-S s; location /inherits/ { } location /own/ { add_header X-O o; } }`);
    expect(actions).toMatchObject({
      '/plain/': 'static', '/ret': 'return', '/add/': 'static', '/addvar/': 'js', '/addlm/': 'js', '/exp/': 'js', '/exp/off/': 'static', '/more/': 'js', '/in/': 'js',
      '/inherits/': 'static', '/own/': 'static', '/alias/': 'js', '/noetag/': 'js', '/ims/': 'js', '/etagon/': 'static',
      '/gzip/': 'js', '/gzoff/': 'static',
    });
  });

  it('a handler inherited from an outer block sends the location to JS', () => {
    const { actions } = planOf(`content_by_js_block { ngx.say(1); } server { listen 127.0.0.1:1; location /a { } }`);
    expect(actions['/a']).toBe('js');
  });

  it('a location with conf the engine does not know (another module\'s directive) goes to JS', () => {
    const { actions } = planOf('server { listen 127.0.0.1:1; location /a { } location /b { } }', (h) => ({
      ...h,
      servers: h.servers.map((s) => ({ ...s, locations: s.locations.map((l) => (l.pattern === '/b' ? { ...l, tryFiles: { files: ['$uri'], fallback: '=404' } } : l)) })),
    }));
    expect(actions).toMatchObject({ '/a': 'static', '/b': 'js' });
  });

  it('the gateway\'s and the compat layer\'s conf: proxy_pass, error_page and internal go to JS; ssl_* and proxy_* settings alone do not', () => {
    const { actions, servers } = planOf(`proxy_set_header X-A 1; proxy_read_timeout 5s; ssl_protocols TLSv1.3;
      server { listen 127.0.0.1:1;
        location /plain { }
        location /up { proxy_pass http://127.0.0.1:9; }
        location /up/static { }
        location /err { error_page 404 /x; }
        location /inner { internal; }
      }`);
    expect(actions).toMatchObject({ '/plain': 'static', '/up': 'js', '/up/static': 'static', '/err': 'js', '/inner': 'js' });
    expect(servers).toEqual([0]);
  });

  it('a server with server-level rewrite ops, or sharing its socket with another, is left to JS', () => {
    expect(planOf('server { listen 127.0.0.1:1; set $x 1; location / { } }').servers).toEqual([-1]);
    expect(planOf('server { listen 127.0.0.1:1; server_name a; } server { listen 127.0.0.1:1; server_name b; }').servers).toEqual([-1]);
  });
});
