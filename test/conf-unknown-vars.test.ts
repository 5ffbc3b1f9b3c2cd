// A `$name` no module, `set`, `map` or regex capture declares: nginx 1.22 refuses the conf once it
// is read (`[emerg] unknown "foo" variable`, with no file:line), whatever directive holds it; tresty
// refuses it the same way and names the use's file:line. Each case is checked against `nginx -t`
// where nginx is installed; confs nginx accepts must load.
import { describe, expect, it } from 'vitest';
import { confErrorOf, loadConfText, serverConf } from './helpers/conf-load.js';
import { nginxConfError, nginxMissing } from './helpers/nginx.js';
import { NGINX_ONLY_VAR_NAMES, VAR_PREFIXES } from '../src/config/var-registry.js';
import { BUILTIN_VAR_NAMES, UPSTREAM_VAR_NAMES } from '../src/config/var-names.js';

// [server part, http part, the unknown name (null: nginx accepts the conf)]
const CASES: Array<[string, string, string | null]> = [
  ['return 200 $reqest_uri;', '', 'reqest_uri'],
  ['return 200 "a${nope}b";', '', 'nope'],
  ['location / { set $a $undefined; }', '', 'undefined'],
  ['location / { if ($nope) { return 204; } }', '', 'nope'],
  ['location / { if ($nope = x) { return 204; } }', '', 'nope'],
  ['location / { if ($uri = $nope) { return 204; } }', '', 'nope'],
  ['location / { if (-f $nope) { return 204; } }', '', 'nope'],
  ['location / { proxy_set_header X $hots; proxy_pass http://127.0.0.1:1; }', '', 'hots'],
  ['location / { proxy_pass http://$nope; }', '', 'nope'],
  ['location / { proxy_pass http://127.0.0.1:1; proxy_redirect http://a/ http://$nope/; }', '', 'nope'],
  ['add_header X $foo;', '', 'foo'],
  ['', 'log_format x "$foo";', 'foo'],
  ['', 'map $nope $m { default 1; }', 'nope'],
  ['', 'map $uri $m { default $nope; }', 'nope'],
  ['location / { try_files $nope /x; }', '', 'nope'],
  ['rewrite ^/(.*)$ /$nope last;', '', 'nope'],
  ['access_log /tmp/$nope.log;', '', 'nope'],
  ['access_log /tmp/a.log combined if=$nope;', '', 'nope'],
  ['root /srv/$nope;', '', 'nope'],
  ['location / { alias /srv/$nope; }', '', 'nope'],
  ['error_page 404 /$nope;', '', 'nope'],
  ['index $nope.html;', '', 'nope'],
  ['', 'limit_req_zone $nope zone=a:1m rate=1r/s;', 'nope'],
  ['auth_basic $nope;', '', 'nope'],
  ['limit_rate $nope;', '', 'nope'],
  ['location / { proxy_pass http://127.0.0.1:1; proxy_cache_key $nope; }', '', 'nope'],
  ['', 'upstream u { hash $nope; server 127.0.0.1:1; }', 'nope'],
  ['location / { proxy_pass http://127.0.0.1:1; proxy_cookie_path ~^/a$ /$nope; }', '', 'nope'],
  ['location / { proxy_pass http://127.0.0.1:1; proxy_set_header Host $host$nope; }', '', 'nope'],
  ['location / { proxy_pass http://127.0.0.1:1; proxy_no_cache $nope; }', '', 'nope'],
  ['index index.html; error_page 404 =200 /e?x=$nope;', '', 'nope'],
  ['', 'log_format x escape=json \'$remote_addr $nope\';', 'nope'],
  ['', 'map $uri $m { hostnames; default 0; *.a.test $nope; }', 'nope'],
  // accepted: nginx declares at conf time, anywhere in http{}
  ['location / { if ($uri ~ ^/a$) { return 204; } }', '', null],
  ['location / { if ( $uri ~* "^/a b$x" ) { return 204; } }', '', null],
  ['location / { if ( $uri !~ "^/a b" ) { return 200 $nope; } }', '', 'nope'],
  ['location / { set $a 1; } return 200 $a;', '', null],
  ['return 200 $a;', 'server { listen 127.0.0.1:8081; set $a 1; }', null],
  ['return 200 $m;', 'map $uri $m { default 1; }', null],
  ['', 'map $uri $m { ~(?<cap>x) 1; default $cap; }', null],
  ['rewrite ^/(?<nm>.*)$ /$nm last;', '', null],
  ['location ~ ^/(?<p>.*)$ { return 200 $p; }', '', null],
  ['server_name ~^(?<sub>.+)\\.x$; return 200 $sub;', '', null],
  ['return 200 $1$9;', '', null],
  ['location / { proxy_pass http://127.0.0.1:1; proxy_redirect ~^http://a(.*)$ http://b$1; proxy_cookie_path ~^/(?<pp>.*)$ /$pp; }', '', null],
  ['', 'map $uri $m { ~^/(?<mp>.*)$ $mp; default $http_x; }', null],
  ['return 200 "$HOST $Arg_x $HTTP_X $sent_trailer_x $upstream_http_x $upstream_cookie_x $upstream_trailer_x $cookie_a $sent_http_y";', '', null],
  ['return 200 "$request_completion $proxy_host $proxy_add_x_forwarded_for $realpath_root $gzip_ratio $upstream_cache_status";', '', null],
];

/** serverConf: the http part on line 1, the server's body on line 3 (each refused case has one part only). */
const lineOf = (server: string): number => (server ? 3 : 1);

// [server part, http part, nginx's message]: a `$` that names nothing, refused at its directive
const BAD_NAMES: Array<[string, string, string]> = [
  ['add_header X "5$";', '', 'invalid variable name'],
  ['location / { set $a "x$"; }', '', 'invalid variable name'],
  ['location / { if ($uri = "a$") { return 204; } }', '', 'invalid variable name'],
  ['rewrite ^ /a$;', '', 'invalid variable name'],
  ['return 200 "${}";', '', 'invalid variable name'],
  ['return 200 "${a";', '', 'the closing bracket in "a" variable is missing'],
  ['location / { try_files /a$ =404; }', '', 'invalid variable name'],
  ['access_log /tmp/a$.log;', '', 'invalid variable name'],
  ['', 'map $uri $m { default "a$"; }', 'invalid variable name'],
  ['', 'log_format x "a$ b";', 'invalid parameter "$ b"'],
];

const escape = (t: string): string => t.replace(/[$^()[\]{}.*+?|\\]/g, '\\$&');

describe('a $ that names nothing, refused at its directive as nginx -t', () => {
  for (const [server, http, want] of BAD_NAMES) {
    it(`${http} ${server} -> ${want}`, () => {
      const e = confErrorOf(serverConf(server, http), { inConf: true });
      expect(e.code).toBe('TRESTY_ERR_CONF_VALUE');
      expect(e.message).toMatch(new RegExp(`^${escape(want)} in .*conf/nginx\\.conf:${lineOf(server)}$`));
    });
  }
});

describe('unknown variables refused at load, as nginx -t', () => {
  for (const [server, http, want] of CASES) {
    it(`${http} ${server} -> ${want ?? 'accepted'}`, () => {
      const conf = serverConf(server, http);
      if (want === null) {
        expect(() => loadConfText(conf, { inConf: true })).not.toThrow();
        return;
      }
      const e = confErrorOf(conf, { inConf: true });
      expect(e.code).toBe('TRESTY_ERR_CONF_UNKNOWN_VAR');
      expect(e.message).toMatch(new RegExp(`^unknown "${want}" variable in .*conf/nginx\\.conf:${lineOf(server)}$`));
    });
  }

  it('names the first use in conf order, and a `set` after its use declares it', () => {
    const e = confErrorOf('events {}\nhttp {\nserver { listen 127.0.0.1:8080;\nlocation /a { return 200 $x; }\n'
      + 'location /b { return 200 $first; }\nlocation /c { return 200 $second; set $x 1; }\n} }', { inConf: true });
    expect(e.message).toMatch(/^unknown "first" variable in .*nginx\.conf:5$/);
  });

  const missing = nginxMissing();
  it.skipIf(missing !== null)(`nginx -t refuses a $ that names nothing the same way${missing ? ` (skipped: ${missing})` : ''}`, () => {
    for (const [server, http, want] of BAD_NAMES) {
      expect(nginxConfError(server, http), server + http).toMatch(new RegExp(`\\[emerg\\] ${escape(want)} in PREFIX/nginx\\.conf:\\d+$`));
    }
  });

  it.skipIf(missing !== null)(`nginx -t says the same${missing ? ` (skipped: ${missing})` : ''}`, () => {
    for (const [server, http, want] of CASES) {
      const got = nginxConfError(server, http);
      if (want === null) expect(got, server + http).toBeNull();
      else expect(got, server + http).toMatch(new RegExp(`\\[emerg\\] .*unknown "${want}" variable$`));
    }
  });

  it.skipIf(missing !== null)('nginx knows every name of the registry (built-ins, its own extra names, the prefixes)', () => {
    const names = [...BUILTIN_VAR_NAMES, ...UPSTREAM_VAR_NAMES, ...NGINX_ONLY_VAR_NAMES, ...VAR_PREFIXES.map((p) => `${p}x`)];
    expect(nginxConfError(`return 200 "${names.map((n) => `$${n}`).join(' ')}";`)).toBeNull();
  });
});
