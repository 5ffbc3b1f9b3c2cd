// nginx's auth_basic with the password schemes nginx checks ({PLAIN}, {SHA}, {SSHA}, $apr1$, and
// crypt(3)'s $1$, $5$, $6$), its 401 / 403 answers and log lines, `satisfy any` with allow/deny,
// and $remote_user. The Lua form runs on real nginx with the same expectations, the JS form on
// both HTTP engines; a scheme tresty cannot compute is checked on tresty only (nginx's crypt(3)
// knows it).
import crypto from 'node:crypto';
import { compatSuite } from './helpers/compat.js';
import { phaseSuite, type Case } from './helpers/phases-harness.js';

const sha = `{SHA}${crypto.createHash('sha1').update('pw-sha').digest('base64')}`;
const salt = Buffer.from('s4lt!');
const ssha = `{SSHA}${Buffer.concat([crypto.createHash('sha1').update('pw-ssha').update(salt).digest(), salt]).toString('base64')}`;
// openssl passwd -apr1 / -1 / -5 / -6 -salt abcdefgh secret
const htpasswd = `# a comment line
plain:{PLAIN}pw-plain
sha:${sha}
ssha:${ssha}:a comment field
apr1:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s256:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s512:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
bcrypt:$2y$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui
`;
// tresty's conf is conf/nginx.conf, nginx's is nginx.conf in the prefix: a relative user file is
// found next to each.
const files = { 'conf/htpasswd': htpasswd, htpasswd };

const basic = (user: string, pw: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });

function both(name: string, conf: string, rest: Omit<Case, 'name' | 'conf' | 'lua'>): Case {
  return { name, conf: conf.replace(/_by_X_/g, '_by_js_'), lua: conf.replace(/_by_X_/g, '_by_lua_'), ...rest };
}

const cases: Case[] = [
  both('every scheme nginx checks; $remote_user', `
    location = /a { auth_basic "Restricted Area"; auth_basic_user_file htpasswd; content_by_X_block { ngx.say("hi ", ngx.var.remote_user) } }`, {
    requests: [
      { path: '/a', status: 401, resHeaders: { 'www-authenticate': 'Basic realm="Restricted Area"' }, resBody: /401 Authorization Required/ },
      { path: '/a', headers: basic('plain', 'pw-plain'), status: 200, resBody: 'hi plain\n' },
      { path: '/a', headers: basic('sha', 'pw-sha'), status: 200, resBody: 'hi sha\n' },
      { path: '/a', headers: basic('ssha', 'pw-ssha'), status: 200, resBody: 'hi ssha\n' },
      { path: '/a', headers: basic('apr1', 'secret'), status: 200, resBody: 'hi apr1\n' },
      { path: '/a', headers: basic('md5', 'secret'), status: 200, resBody: 'hi md5\n' },
      { path: '/a', headers: basic('s256', 'secret'), status: 200, resBody: 'hi s256\n' },
      { path: '/a', headers: basic('s512', 'secret'), status: 200, resBody: 'hi s512\n' },
    ],
    errorLog: ['[info]', 'no user/password was provided for basic authentication, client: 127.0.0.1, server: localhost, request: "GET /a HTTP/1.1"'],
  }),
  both('a wrong password, an unknown user, a bad header: 401 with the realm and nginx\'s lines', `
    location = /b { auth_basic "R $uri"; auth_basic_user_file htpasswd; content_by_X_block { ngx.say("in") } }`, {
    requests: [
      { path: '/b', headers: basic('apr1', 'nope'), status: 401, resHeaders: { 'www-authenticate': 'Basic realm="R /b"' } },
      { path: '/b', headers: basic('ghost', 'x'), status: 401 },
      { path: '/b', headers: { authorization: 'Bearer abc' }, status: 401 },
    ],
    errorLog: ['user "apr1": password mismatch', /user "ghost" was not found in "[^"]*htpasswd"/],
  }),
  both('a missing user file is 403; auth_basic off in an inner location', `
    location = /nofile { auth_basic "x"; auth_basic_user_file missing.htpasswd; content_by_X_block { ngx.say("in") } }
    location /outer/ { auth_basic "x"; auth_basic_user_file htpasswd; location /outer/open { auth_basic off; content_by_X_block { ngx.say("open") } } }`, {
    requests: [
      { path: '/nofile', headers: basic('plain', 'pw-plain'), status: 403 },
      { path: '/outer/open', status: 200, resBody: 'open\n' },
      { path: '/outer/x', status: 401 },
    ],
    errorLog: [/\[error\] .*open\(\) "[^"]*missing\.htpasswd" failed \(2: No such file or directory\)/],
  }),
  both('satisfy any: deny all and auth_basic answer 401 without credentials, let a user in; satisfy all: 403', `
    location = /any { satisfy any; deny all; auth_basic "x"; auth_basic_user_file htpasswd; content_by_X_block { ngx.say("any") } }
    location = /all { deny all; auth_basic "x"; auth_basic_user_file htpasswd; content_by_X_block { ngx.say("all") } }
    location = /js { auth_basic "x"; auth_basic_user_file htpasswd; access_by_X_block { ngx.log(ngx.ERR, "js after auth") } content_by_X_block { ngx.say("js") } }`, {
    requests: [
      { path: '/any', status: 401 },
      { path: '/any', headers: basic('plain', 'pw-plain'), status: 200, resBody: 'any\n' },
      { path: '/all', headers: basic('plain', 'pw-plain'), status: 403 },
      { path: '/js', status: 401 },
      { path: '/js', headers: basic('plain', 'pw-plain'), status: 200, resBody: 'js\n' },
    ],
    errorLog: ['js after auth'],
  }),
];

compatSuite('auth_basic', { files }, cases);
phaseSuite('auth_basic on node:http', { http: 'http_engine node;', files }, cases);
phaseSuite('auth_basic: a crypt(3) scheme tresty cannot compute', { files }, [{
  name: 'answers 500 with a crit line naming the scheme',
  conf: 'location = /bc { auth_basic "x"; auth_basic_user_file htpasswd; content_by_js_block { ngx.say("in") } }',
  requests: [{ path: '/bc', headers: basic('bcrypt', 'secret'), status: 500 }],
  errorLog: [/\[crit\] .*crypt\(\) failed: the "\$2y\$" hash of user "bcrypt" in "[^"]*htpasswd" is a scheme tresty cannot check \(TRESTY_ERR_AUTH_SCHEME\)/],
}]);
