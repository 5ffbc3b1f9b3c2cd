// Which locations the native engine answers without JS (src/http/native-plan.ts): only those the
// pipeline would answer with no JS at all; anything else, including conf it does not know, goes to JS.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConf } from '../src/config/index.js';
import type { HttpConf } from '../src/config/types.js';
import { buildPlan } from '../src/http/native-plan.js';
import { planBinds } from '../src/http/vhost.js';
import { withTempDir } from './helpers/temp-dir.js';

const ACT = ['js', 'static', 'return'];

function planOf(http: string, change: (h: HttpConf) => HttpConf = (h) => h): { actions: Record<string, string>; maxBodies: Record<string, number>; servers: number[] } {
  return withTempDir('tresty-plan-', (dir) => {
    fs.writeFileSync(path.join(dir, 'nginx.conf'), `http { ${http} }`);
    const loaded = loadConf({ file: 'nginx.conf', prefix: dir }).conf;
    const conf = { ...loaded, http: change(loaded.http!) };
    const plan = buildPlan(conf.http, { txt: 'text/plain' });
    // Read the actions back from the plan as the engine does: u32 version, types, then locations.
    const b = plan.buf;
    let o = 4;
    const u32 = (): number => { const v = b.readUInt32LE(o); o += 4; return v; };
    const str = (): string => { const n = u32(); const s = b.toString('utf8', o, o + n); o += (n + 3) & ~3; return s; };
    for (let i = u32(); i > 0; i--) { str(); str(); }
    const actions: Record<string, string> = {};
    const maxBodies: Record<string, number> = {};
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
      // the filters (native-plan-extras.ts): gzip, charset, expires, try_files
      u32(); u32(); u32(); str(); str(); str(); u32(); u32();
      for (let k = u32(); k > 0; k--) u32();
      u32(); str();
      const maxBody = u32(); // client_max_body_size: a body within it may get a native answer
      actions[pattern || '(server)'] = act;
      maxBodies[pattern || '(server)'] = maxBody;
    }
    return { actions, maxBodies, servers: planBinds(conf.http).map((bd) => plan.serverFor(bd)) };
  });
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

  it('client_max_body_size keeps the native route and goes in the plan (the engine answers a body within it, else JS says 413)', () => {
    const { actions, maxBodies } = planOf(`client_max_body_size 2k; server { listen 127.0.0.1:1;
      location /small/ { client_max_body_size 1k; }
      location /none/ { client_max_body_size 0; }
      location /huge/ { client_max_body_size 10g; }
      location /default/ { }
    }`);
    expect(actions).toEqual({ '(server)': 'static', '/small/': 'static', '/none/': 'static', '/huge/': 'static', '/default/': 'static' });
    expect(maxBodies).toEqual({ '(server)': 2048, '/small/': 1024, '/none/': 0, '/huge/': 0xffffffff, '/default/': 2048 });
  });

  it('constant add_headers, expires, etag off, if_modified_since off|before, gzip and gzip_static stay native (the engine applies them); more_*, add_header with variables and alias send a location to JS; their defaults keep the native routes', () => {
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
      location /gzs/ { gzip_static on; gzip_vary on; }
      location /gzsa/ { gzip_static always; gzip on; }
      location /gzsoff/ { gzip_static off; }
      location /gzsdis/ { gzip_static on; gzip_disable "curl/"; }
    }
    server { listen 127.0.0.1:2; add_header X-S s; location /inherits/ { } location /own/ { add_header X-O o; } }`);
    expect(actions).toMatchObject({
      '/plain/': 'static', '/ret': 'return', '/add/': 'static', '/addvar/': 'js', '/addlm/': 'js', '/exp/': 'static', '/exp/off/': 'static', '/more/': 'js', '/in/': 'js',
      '/inherits/': 'static', '/own/': 'static', '/alias/': 'js', '/noetag/': 'static', '/ims/': 'static', '/etagon/': 'static',
      '/gzip/': 'static', '/gzoff/': 'static', '/gzs/': 'static', '/gzsa/': 'static', '/gzsoff/': 'static', '/gzsdis/': 'js',
    });
  });

  it('autoindex on (inherited too) and stub_status go to JS; autoindex off and a server with neither stay native; stub_status is not inherited', () => {
    const { actions } = planOf(`server { listen 127.0.0.1:1;
      location /plain/ { }
      location /aioff/ { autoindex off; autoindex_exact_size on; autoindex_localtime off; autoindex_format html; }
      location /ai/ { autoindex on; location /ai/in/ { } location /ai/off/ { autoindex off; } }
      location /aij/ { autoindex on; autoindex_format json; autoindex_exact_size off; autoindex_localtime on; }
      location = /st { stub_status; }
      location /st2/ { stub_status on; location /st2/in/ { } }
    }
    server { listen 127.0.0.1:2; autoindex on; location /srv/ { } }`);
    expect(actions).toMatchObject({
      '/plain/': 'static', '/aioff/': 'static', '/ai/': 'js', '/ai/in/': 'js', '/ai/off/': 'static', '/aij/': 'js',
      '/st': 'js', '/st2/': 'js', '/st2/in/': 'static', '/srv/': 'js',
    });
  });

  it('a handler inherited from an outer block sends the location to JS', () => {
    const { actions } = planOf(`content_by_js_block { ngx.say(1); } server { listen 127.0.0.1:1; location /a { } }`);
    expect(actions['/a']).toBe('js');
  });

  it('a location with conf the engine does not know (another module\'s directive) goes to JS', () => {
    const { actions } = planOf('server { listen 127.0.0.1:1; location /a { } location /b { } }', (h) => ({
      ...h,
      servers: h.servers.map((s) => ({ ...s, locations: s.locations.map((l) => (l.pattern === '/b' ? { ...l, someModule: { on: true } } : l)) })),
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

  it('client certificates (ssl_verify_client, its CA files and depth) keep the native route: the engine checks them', () => {
    const { actions, servers } = planOf(`ssl_verify_client optional; ssl_client_certificate /x/ca.pem; ssl_verify_depth 2;
      server { listen 127.0.0.1:1; ssl_trusted_certificate /x/t.pem; ssl_crl /x/crl.pem; location /plain { } }`);
    expect(actions).toMatchObject({ '/plain': 'static' });
    expect(servers).toEqual([0]);
  });

  it('ssl_reject_handshake and ssl_stapling_file act at the handshake only: the native route stays', () => {
    const { actions, servers } = planOf(`ssl_reject_handshake on; ssl_stapling on; ssl_stapling_file /x/ocsp.der;
      server { listen 127.0.0.1:1; ssl_reject_handshake off; location /plain { } }`);
    expect(actions).toMatchObject({ '/plain': 'static' });
    expect(servers).toEqual([0]);
  });

  it('proxy_cache settings inherited by a location without proxy_pass keep its native route; the proxied one is JS', () => {
    const { actions, servers } = planOf(`proxy_cache_path /tmp/tresty-plan-cache levels=1:2 keys_zone=c:1m;
      proxy_cache c; proxy_cache_valid 200 1m; proxy_cache_key $uri; proxy_cache_lock on; proxy_cache_use_stale error;
      server { listen 127.0.0.1:1;
        location /plain { proxy_cache_bypass $arg_x; proxy_no_cache $arg_y; }
        location /up { proxy_pass http://127.0.0.1:9; }
      }`);
    expect(actions).toMatchObject({ '(server)': 'static', '/plain': 'static', '/up': 'js' });
    expect(servers).toEqual([0]);
  });

  it('nginx\'s tuning directives accepted with no effect (directives-tuning.ts) keep the native route', () => {
    const { actions, servers } = planOf(`types_hash_max_size 2048; server_names_hash_bucket_size 64; open_file_cache max=10;
      output_buffers 2 32k; postpone_output 1460; aio threads; msie_padding on;
      server { listen 127.0.0.1:1;
        location /plain { }
        location /tuned { open_file_cache off; directio 4m; proxy_headers_hash_max_size 512; msie_refresh on; }
      }`);
    expect(actions).toMatchObject({ '(server)': 'static', '/plain': 'static', '/tuned': 'static' });
    expect(servers).toEqual([0]);
  });

  it('nginx\'s http flags: at their defaults (or written as the default) native; away from them, JS', () => {
    const { actions, servers } = planOf(`server_tokens on; absolute_redirect on; log_not_found on; resolver 127.0.0.1 valid=5s; resolver_timeout 5s;
      server { listen 127.0.0.1:1;
        location /plain { port_in_redirect on; chunked_transfer_encoding on; }
        location /rel { absolute_redirect off; }
        location /quiet { log_not_found off; }
        location /back { log_not_found off; location /back/on { log_not_found on; } }
      }`);
    expect(actions).toMatchObject({ '(server)': 'static', '/plain': 'static', '/rel': 'js', '/quiet': 'js', '/back': 'js', '/back/on': 'static' });
    expect(servers).toEqual([0]);
    expect(planOf('merge_slashes off; server { listen 127.0.0.1:1; location / { } }').servers).toEqual([-1]);
  });

  it('merge_slashes off in the default server of an address: its other servers are JS\'s too (nginx parses their URIs with it)', () => {
    const two = (a: string, b: string): string => `server { listen 127.0.0.1:1; ${a} location /a { } } server { listen 127.0.0.1:1; server_name b; ${b} location /b { } }`;
    expect(Object.keys(planOf(two('merge_slashes off;', '')).actions)).not.toContain('/b');
    expect(Object.keys(planOf(two('', 'merge_slashes off;')).actions)).toContain('/a');
    expect(Object.keys(planOf(two('', '')).actions)).toEqual(expect.arrayContaining(['/a', '/b']));
  });

  it('server_tokens on or off, per location, keeps the native route (a location flag); with another flag, JS', () => {
    const { actions } = planOf(`server_tokens on;
      server { listen 127.0.0.1:1;
        location /off { server_tokens off; }
        location = /r { server_tokens build; return 200 "x"; }
        location /both { log_not_found off; }
      }`);
    expect(actions).toMatchObject({ '(server)': 'static', '/off': 'static', '/r': 'return', '/both': 'js' });
  });

  it('a server with server-level rewrite ops, or sharing its socket with another, is left to JS', () => {
    expect(planOf('server { listen 127.0.0.1:1; set $x 1; location / { } }').servers).toEqual([-1]);
    expect(planOf('server { listen 127.0.0.1:1; server_name a; } server { listen 127.0.0.1:1; server_name b; }').servers).toEqual([-1]);
  });
  it('the access modules: a conf using none, or only map and the accepted map_hash_*, stays native; allow/deny, satisfy and realip go to JS where they apply', () => {
    const none = planOf('server { listen 127.0.0.1:1; location /a { } location = /r { return 200 "x"; } }');
    expect(none.actions).toMatchObject({ '(server)': 'static', '/a': 'static', '/r': 'return' });
    expect(none.servers).toEqual([0]);
    const accepted = planOf(`map_hash_max_size 4096; map_hash_bucket_size 128; map $uri $m { default 1; }
      server { listen 127.0.0.1:1; location /a { } }`);
    expect(accepted.actions).toMatchObject({ '(server)': 'static', '/a': 'static' });
    expect(accepted.servers).toEqual([0]);
    const used = planOf(`server { listen 127.0.0.1:1;
      location /open { }
      location /deny { deny all; }
      location /any { satisfy any; }
      location /real { set_real_ip_from 10.0.0.0/8; }
      location /lr { limit_req zone=z; }
      location /lrs { limit_req_status 429; }
      location /auth { auth_basic "x"; auth_basic_user_file pw; }
      location /authoff { auth_basic off; }
      location /le { limit_except GET { deny all; } }
    }`.replace('server {', 'limit_req_zone $uri zone=z:64k rate=1r/s; server {'));
    expect(used.actions).toMatchObject({ '/open': 'static', '/deny': 'js', '/any': 'js', '/real': 'js', '/lr': 'js', '/lrs': 'static', '/auth': 'js', '/authoff': 'static', '/le': 'js' });
  });

  it('conf2: accepted-no-effect directives and limit_rate 0 / recursive_error_pages off stay native; limit_rate, limit_rate_after and recursive_error_pages on go to JS', () => {
    const accepted = planOf(`open_log_file_cache max=10 inactive=20s; sendfile_max_chunk 512k; client_body_in_single_buffer on;
      proxy_socket_keepalive on; proxy_temp_file_write_size 16k; autoindex off; ssi off; proxy_cache off; limit_rate 0;
      recursive_error_pages off; proxy_cookie_path /a/ /; proxy_cookie_domain ~x y;
      server { listen 127.0.0.1:1; ssl_buffer_size 4k; location /a { mirror off; } }`);
    expect(accepted.actions).toMatchObject({ '(server)': 'static', '/a': 'static' });
    expect(accepted.servers).toEqual([0]);
    const used = planOf(`server { listen 127.0.0.1:1;
      location /open { }
      location /lr { limit_rate 10k; }
      location /lrv { limit_rate $arg_r; }
      location /lra { limit_rate_after 1m; }
      location /rec { recursive_error_pages on; }
    }`);
    expect(used.actions).toMatchObject({ '/open': 'static', '/lr': 'js', '/lrv': 'js', '/lra': 'js', '/rec': 'js' });
  });
});

// Debian's stock nginx.conf (gzip on at http level) with sites-enabled/default's server, plus the
// charset, expires and security headers such a site adds: every location stays on the engine.
describe('a Debian-like nginx.conf', () => {
  const debian = `sendfile on; tcp_nopush on; types_hash_max_size 2048; default_type application/octet-stream;
    gzip on; charset utf-8;
    server { listen 127.0.0.1:1 default_server; root /var/www/html; index index.html index.htm index.nginx-debian.html; server_name _;
      add_header X-Frame-Options SAMEORIGIN; add_header X-Content-Type-Options nosniff;
      location / { try_files $uri $uri/ =404; }
      location /static/ { expires 1h; }
      location /app/ { try_files $uri /index.html; }
      location = /health { return 200 "ok"; }
    }`;

  it('keeps the server, `/` (try_files), the expires location, the SPA fallback and the return native', () => {
    const { actions, servers } = planOf(debian);
    expect(actions).toEqual({ '(server)': 'static', '/': 'static', '/static/': 'static', '/app/': 'static', '/health': 'return' });
    expect(servers).toEqual([0]);
  });

  it('the rarer shapes of these directives still go to JS', () => {
    const { actions } = planOf(`server { listen 127.0.0.1:1;
      location /gd/ { gzip on; gzip_disable "curl/"; }
      location /gm/ { gzip on; gzip_disable msie6; gzip_proxied any; gzip_http_version 1.0; gzip_vary on; }
      location /gs/ { gzip_static on; gzip_disable "MSIE [1-5]\\."; }
      location /cv/ { charset $arg_cs; }
      location /em/ { expires modified 1h; }
      location /ed/ { expires @15h; }
      location /te/ { expires epoch; }
      location /tm/ { expires max; }
      location /tv/ { try_files $uri $uri.html =404; }
      location /tn/ { try_files $uri @named; }
      location /tq/ { try_files $uri /index.php?$args; }
      location /tc/ { try_files $uri $uri/ =403; }
    }`);
    expect(actions).toMatchObject({
      '/gd/': 'js', '/gm/': 'static', '/gs/': 'js', '/cv/': 'js', '/em/': 'js', '/ed/': 'js', '/te/': 'static', '/tm/': 'static',
      '/tv/': 'js', '/tn/': 'js', '/tq/': 'js', '/tc/': 'static',
    });
  });
});
