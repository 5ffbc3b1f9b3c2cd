// limit_rate, recursive_error_pages, the accepted-no-effect directives of the second wave and the
// modules tresty does not have, as the conf loader reads them: what they resolve to, and nginx
// 1.22's messages (checked with nginx -t) for the mistakes, ending `in FILE:LINE`.
import { describe, expect, it } from 'vitest';
import { confErrorOf, loadConfText, serverConf } from './helpers/conf-load.js';
import { unsupportedModules } from '../src/config/directives-unsupported.js';

const load = (conf: string) => loadConfText(conf, { inConf: true });
const errorOf = (conf: string) => confErrorOf(conf, { inConf: true });
const server = serverConf;

describe('limit_rate and recursive_error_pages', () => {
  it('inherit as nginx merges them, in location if too; a constant 0 is no limit', () => {
    const c = load(server(`limit_rate_after 1k;
      location /a { }
      location /b { limit_rate 0; recursive_error_pages off; }
      location /c { limit_rate $arg_r; if ($arg_x) { limit_rate 1m; } }`, 'limit_rate 10k; recursive_error_pages on;'));
    const [a, b, cc] = c.http!.servers[0]!.locations;
    expect(a!.output).toEqual({ limitRate: ['10k'], limitRateAfter: 1024, recursiveErrorPages: true });
    expect(b!.output).toEqual({ limitRateAfter: 1024 });
    expect(cc!.output.limitRate).toEqual([{ name: 'arg_r' }]);
    const ifOp = cc!.rewriteOps.find((o) => o.op === 'if') as { loc: { output: unknown } };
    expect(ifOp.loc.output).toMatchObject({ limitRate: ['1m'] });
  });

  it('a location using none of them has an empty output conf', () => {
    expect(load(server('location /a { }')).http!.servers[0]!.locations[0]!.output).toEqual({});
  });

  it('bad values and contexts are errors naming file:line', () => {
    expect(errorOf(server('limit_rate 10q;'))).toMatchObject({ code: 'TRESTY_ERR_CONF_VALUE', message: expect.stringMatching(/"limit_rate" directive invalid value in .*nginx\.conf:3/) });
    expect(errorOf(server('limit_rate_after x;')).code).toBe('TRESTY_ERR_CONF_VALUE');
    expect(errorOf(server('recursive_error_pages yes;')).message).toMatch(/it must be "on" or "off"/);
    expect(errorOf(server('location / { if ($a) { recursive_error_pages on; } }')).message).toMatch(/"recursive_error_pages" directive is not allowed here/);
  });
});

describe('proxy_cookie_domain and proxy_cookie_path', () => {
  it('read in order, inherited, and dropped by off', () => {
    const c = load(server(`proxy_cookie_domain .Backend.local example.com; proxy_cookie_domain ~^(a)b$ $1; proxy_cookie_path ~*^/APP /;
      location /a { }
      location /b { proxy_cookie_domain off; }`));
    const [a, b] = c.http!.servers[0]!.locations;
    expect(a!.proxy.cookieDomains.map((r) => [r.from, r.regex?.flags ?? null, r.to])).toEqual([['Backend.local', null, 'example.com'], ['~^(a)b$', 'i', '$1']]);
    expect(a!.proxy.cookiePaths[0]!.regex!.source).toBe('^\\/APP');
    expect(a!.proxy.cookiePaths[0]!.regex!.flags).toBe('i');
    expect(b!.proxy.cookieDomains).toEqual([]);
    expect(b!.proxy.cookiePaths.length).toBe(1);
  });

  it('bad forms are errors naming file:line', () => {
    expect(errorOf(server('proxy_cookie_path /a;'))).toMatchObject({ code: 'TRESTY_ERR_CONF_ARGS', message: expect.stringMatching(/invalid number of arguments in "proxy_cookie_path" directive in .*:3/) });
    expect(errorOf(server('proxy_cookie_domain ~*x y;')).message).toMatch(/invalid regex "\*x" in "proxy_cookie_domain"/);
  });
});

describe('proxy_cookie_flags', () => {
  it('rules in order, flags as written; `off` drops inherited ones; `off FLAG` names a cookie "off"', () => {
    const c = load(server(`proxy_cookie_flags A nosecure httponly; proxy_cookie_flags ~^[bc] samesite=$arg_s; proxy_cookie_flags off secure;
      location /a { }
      location /b { proxy_cookie_flags off; }`));
    const [a, b] = c.http!.servers[0]!.locations;
    expect(a!.proxy.cookieFlags.map((r) => [r.name, r.regex?.source ?? null, r.flags])).toEqual([
      ['A', null, ['nosecure', 'httponly']], ['~^[bc]', '^[bc]', ['samesite=$arg_s']], ['off', null, ['secure']],
    ]);
    expect(b!.proxy.cookieFlags).toEqual([]);
  });

  // nginx 1.22's verdicts (nginx -t)
  it('bad forms are nginx\'s errors', () => {
    expect(errorOf(server('proxy_cookie_flags a;')).message).toMatch(/^invalid parameter "a" in .*:3$/);
    expect(errorOf(server('proxy_cookie_flags a secure secure secure secure;')).message).toMatch(/^invalid number of arguments in "proxy_cookie_flags" directive in /);
    expect(errorOf(server('proxy_cookie_flags a secure; proxy_cookie_flags off;')).message).toMatch(/^"proxy_cookie_flags" directive is duplicate in /);
    expect(errorOf(server('proxy_cookie_flags off; proxy_cookie_flags off;')).message).toMatch(/^"proxy_cookie_flags" directive is duplicate in /);
    expect(errorOf(server('proxy_cookie_flags ~( secure;')).message).toMatch(/^pcre2_compile\(\) failed: .* in "\(" in /);
  });
});

describe('accepted with no effect', () => {
  it('loads nginx\'s forms', () => {
    expect(() => load(server(`ssl_buffer_size 16k;
      ssl_stapling off; ssl_stapling_verify on; ssl_stapling_responder http://ocsp.example.com/; location / { proxy_temp_path /var/cache/p 1 2; open_log_file_cache off; client_body_in_single_buffer on; sendfile_max_chunk 0; proxy_socket_keepalive off; proxy_temp_file_write_size 16k; }`,
    'open_log_file_cache max=1000 inactive=20s valid=1m min_uses=2;'))).not.toThrow();
  });

  it('checks their syntax as nginx -t does', () => {
    expect(errorOf(server('', 'open_log_file_cache inactive=20s;')).message).toMatch(/"open_log_file_cache" must have "max" parameter in .*:1/);
    expect(errorOf(server('', 'open_log_file_cache max=10 foo=1;')).message).toMatch(/invalid "open_log_file_cache" parameter "foo=1"/);
    expect(errorOf(server('location / { ssl_buffer_size 4k; }')).message).toMatch(/"ssl_buffer_size" directive is not allowed here/);
    expect(errorOf(server('sendfile_max_chunk 1z;')).code).toBe('TRESTY_ERR_CONF_VALUE');
    expect(errorOf(server('client_body_in_single_buffer 1;')).message).toMatch(/it must be "on" or "off"/);
    expect(errorOf(server('proxy_temp_path /tmp/p 3;')).message).toMatch(/"proxy_temp_path" directive invalid value in .*:3/);
    expect(errorOf(server('ssl_stapling yes;')).message).toMatch(/it must be "on" or "off"/);
    expect(errorOf(server('location / { ssl_dhparam dh.pem; }')).message).toMatch(/"ssl_dhparam" directive is not allowed here/);
    // nginx 1.22 -t: the URL is not looked at (only when stapling is set up, as a warning)
    expect(() => load(server('ssl_stapling_responder ocsp.example.com;', 'ssl_stapling_responder ftp://x/;'))).not.toThrow();
    expect(errorOf(server('ssl_stapling_responder http://x/; ssl_stapling_responder http://y/;')).message).toMatch(/"ssl_stapling_responder" directive is duplicate/);
    expect(errorOf(server('ssl_stapling_responder;')).message).toMatch(/invalid number of arguments in "ssl_stapling_responder" directive/);
    expect(errorOf(server('location / { ssl_stapling_responder http://x/; }')).message).toMatch(/"ssl_stapling_responder" directive is not allowed here/);
  });
});

describe('modules tresty does not have', () => {
  it('each directive is a TRESTY_ERR_CONF_UNSUPPORTED naming the module, the way to do it in tresty, and file:line', () => {
    const e = errorOf(server('location ~ \\.php$ {\n  include_none_here_x 1;\n}').replace('include_none_here_x 1;', 'fastcgi_pass unix:/run/php.sock;'));
    expect(e.code).toBe('TRESTY_ERR_CONF_UNSUPPORTED');
    expect(e.message).toMatch(/"fastcgi_pass" directive: tresty does not have nginx's fastcgi module; .*proxy_pass.* in .*nginx\.conf:4/);
    for (const m of unsupportedModules) {
      for (const n of [m.names[0]!, m.names[m.names.length - 1]!]) {
        expect(errorOf(server(`location / { ${n} x; }`))).toMatchObject({ code: 'TRESTY_ERR_CONF_UNSUPPORTED', message: expect.stringContaining(`tresty does not have nginx's ${m.module} module`) });
      }
    }
    expect(errorOf(server('location = /g { empty_gif; }')).message).toMatch(/43-byte GIF/);
    // stub_status and autoindex are tresty's own now (directives-autoindex.ts).
    expect(() => load(server('autoindex on; location = /s { stub_status; }'))).not.toThrow();
  });

  it('their off forms (nginx\'s defaults) are accepted', () => {
    expect(() => load(server('location / { autoindex off; ssi off; mirror off; proxy_cache off; proxy_store off; }'))).not.toThrow();
  });
});

describe('http2_max_concurrent_streams and http2_body_preread_size', () => {
  it('default to nginx\'s 128 and 64k; a server sets its own; numbers past 32 bits mean no limit', () => {
    const c = load(server('listen 8443 ssl http2;', 'http2_max_concurrent_streams 99999999999; http2_body_preread_size 1m;'));
    const e = c.http!.servers[0]!.defaults.engine;
    expect([e.http2MaxConcurrentStreams, e.http2BodyPrereadSize]).toEqual([2 ** 32 - 1, 1 << 20]);
    const d = load(server('listen 8443 ssl http2;')).http!.servers[0]!.defaults.engine;
    expect([d.http2MaxConcurrentStreams, d.http2BodyPrereadSize]).toEqual([128, 65536]);
  });

  it('bad values are nginx\'s errors (nginx -t), naming file:line', () => {
    expect(errorOf(server('http2_max_concurrent_streams x;'))).toMatchObject({ code: 'TRESTY_ERR_CONF_VALUE', message: expect.stringMatching(/^"http2_max_concurrent_streams" directive invalid number in .*nginx\.conf:3$/) });
    expect(errorOf(server('http2_max_concurrent_streams -1;')).message).toMatch(/^"http2_max_concurrent_streams" directive invalid number in /);
    expect(errorOf(server('http2_body_preread_size x;')).message).toMatch(/^"http2_body_preread_size" directive invalid value in .*:3$/);
    expect(errorOf(server('http2_body_preread_size 2048m;')).message).toMatch(/^the maximum body preread buffer size is 2147483647 in .*:3$/);
    expect(errorOf(server('location / { http2_body_preread_size 1k; }')).message).toMatch(/"http2_body_preread_size" directive is not allowed here/);
  });
});
