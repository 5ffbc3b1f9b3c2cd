// nginx's userid module (userid, userid_service, _name, _domain, _path, _expires, _p3p, _mark,
// _flags; $uid_got, $uid_set, $uid_reset), on both engines and on nginx 1.22 + lua. A new uid
// holds the time and a per-worker start value, so its cookie is matched by shape; a cookie the
// client sends gives exact values.
import { describe, expect, it } from 'vitest';
import { compatSuite } from './helpers/compat.js';
import { confErrorOf, loadConfText, serverConf } from './helpers/conf-load.js';
import { nginxConfError, nginxConfWarnings, nginxMissing } from './helpers/nginx.js';
import { phaseSuite, type Case } from './helpers/phases-harness.js';

// 127.0.0.1 (the v2 service word by default), then three words.
const UID = 'fwAAAWn5NWZTEBNWAwMEAg==';
const HEX = '0100007F6635F9695613105302040303';
const NEW_V2 = /^uid=fwAAA[A-Za-z0-9+/]{17}==; path=\/$/;

const locs = (js: boolean): string => {
  const by = js ? 'js' : 'lua';
  return `userid on;
    location = /a { add_header X-A 1; return 200 "got=$uid_got set=$uid_set reset=$uid_reset\\n"; }
    location = /b { userid_name vid; userid_domain example.com; userid_path /b; userid_p3p 'CP="X"'; userid_mark K;
      userid_flags samesite=lax httponly secure; return 200 "got=$uid_got set=$uid_set\\n"; }
    location = /c { userid v1; userid_service 7; userid_expires max; return 200 "set=$uid_set\\n"; }
    location = /d { userid log; return 200 "got=$uid_got set=$uid_set\\n"; }
    location = /e { set $uid_reset log; return 200 "got=$uid_got set=$uid_set\\n"; }
    location = /f { header_filter_by_${by}_block { ngx.header["X-L"] = "l" } content_by_${by}_block { ngx.header["X-H"] = "h"; ngx.say(ngx.var.uid_set) } }
    location = /g { return 404; }
    location = /s { userid_service 258; userid_expires 1d; return 200 "set=$uid_set\\n"; }
    location = /off { userid off; return 200 "got=$uid_got set=$uid_set\\n"; }
    location = /w { rewrite_by_${by}_block { ngx.var.uid_reset = "1" } content_by_${by}_block { ngx.say("set=", ngx.var.uid_set) } }`;
};

const cases: Case[] = [{
  name: 'new cookies, a cookie sent, the mark, reset, log, v1, flags, P3P, error pages',
  conf: locs(true),
  lua: locs(false),
  requests: [
    { path: '/a', status: 200, resHeaders: { 'set-cookie': NEW_V2, 'x-a': '1' }, resBody: /^got= set=uid=0100007F[0-9A-F]{24} reset=\n$/ },
    { path: '/a', headers: { cookie: `uid=${UID}` }, status: 200, resHeaders: { 'set-cookie': undefined }, resBody: `got=uid=${HEX} set= reset=\n` },
    // no mark in the client's cookie: the same uid is sent again, marked
    { path: '/b', headers: { cookie: `a=1; vid=${UID}` }, status: 200,
      resHeaders: { 'set-cookie': `vid=${UID.slice(0, 22)}K=; domain=example.com; path=/b; secure; httponly; samesite=lax`, p3p: 'CP="X"' },
      resBody: `got=vid=${HEX} set=vid=${HEX}\n` },
    { path: '/b', headers: { cookie: `vid=${UID.slice(0, 22)}K=` }, status: 200, resHeaders: { 'set-cookie': undefined, p3p: undefined } },
    { path: '/b', status: 200, resHeaders: { 'set-cookie': /^vid=fwAAA[A-Za-z0-9+/]{17}K=; domain=example\.com; path=\/b; secure; httponly; samesite=lax$/ } },
    { path: '/c', status: 200, resHeaders: { 'set-cookie': /^uid=BwAAA[A-Za-z0-9+/]{17}==; expires=Thu, 31-Dec-37 23:55:55 GMT; path=\/$/ },
      resBody: /^set=uid=00000007[0-9A-F]{16}0000[0-9A-F]{2}01\n$/ },
    { path: '/d', headers: { cookie: `uid=${UID}` }, status: 200, resHeaders: { 'set-cookie': undefined }, resBody: `got=uid=${HEX} set=\n` },
    { path: '/e', headers: { cookie: `uid=${UID}` }, status: 200, resHeaders: { 'set-cookie': NEW_V2 }, resBody: new RegExp(`^got=uid=${HEX} set=uid=0100007F[0-9A-F]{24}\n$`) },
    { path: '/f', status: 200, resHeaders: { 'set-cookie': NEW_V2, 'x-l': 'l', 'x-h': 'h' }, resBody: /^uid=0100007F[0-9A-F]{24}\n$/ },
    { path: '/g', status: 404, resHeaders: { 'set-cookie': NEW_V2 } },
    { path: '/s', status: 200, resHeaders: { 'set-cookie': /^uid=AAABA[A-Za-z0-9+/]{17}==; expires=\w{3}, \d\d-\w{3}-\d\d \d\d:\d\d:\d\d GMT; path=\/$/ }, resBody: /^set=uid=02010000[0-9A-F]{24}\n$/ },
    { path: '/off', headers: { cookie: `uid=${UID}` }, status: 200, resHeaders: { 'set-cookie': undefined }, resBody: 'got= set=\n' },
    { path: '/w', headers: { cookie: `uid=${UID}` }, status: 200, resHeaders: { 'set-cookie': NEW_V2 } },
    // a cookie too short, or with a byte base64 does not have: logged, and a new one is made
    { path: '/a', headers: { cookie: 'uid=fwAAAW' }, status: 200, resHeaders: { 'set-cookie': NEW_V2 }, resBody: /^got= set=uid=/ },
    { path: '/a', headers: { cookie: 'uid=fwAAAWn5NWZTEB!WAwMEAg==' }, status: 200, resHeaders: { 'set-cookie': NEW_V2 } },
  ],
  errorLog: [
    `userid cookie "uid=${HEX}" was reset`,
    'client sent too short userid cookie "uid=fwAAAW"',
    'client sent invalid userid cookie "uid=fwAAAWn5NWZTEB!WAwMEAg=="',
  ],
}];

compatSuite('userid', {}, cases);
phaseSuite('userid on node:http', { http: 'http_engine node;' }, cases);

describe('userid conf errors and warnings, as nginx -t', () => {
  const errs: Array<[string, RegExp]> = [
    ['userid maybe;', /^invalid value "maybe" in \S+:3$/],
    ['userid on; userid off;', /^"userid" directive is duplicate in \S+:3$/],
    ['userid_service x;', /^"userid_service" directive invalid number in \S+:3$/],
    ['userid_expires 1x;', /^"userid_expires" directive invalid value in \S+:3$/],
    ['userid_expires max; userid_expires 1d;', /^"userid_expires" directive is duplicate in \S+:3$/],
    ['userid_mark ab;', /^"userid_mark" directive value must be "off" or a single letter, digit or "=" in \S+:3$/],
    ['userid_mark a; userid_mark b;', /^"userid_mark" directive is duplicate in \S+:3$/],
    ['userid_flags samesite=foo;', /^invalid value "samesite=foo" in \S+:3$/],
    ['userid_flags;', /^invalid number of arguments in "userid_flags" directive in \S+:3$/],
    ['userid_flags secure httponly samesite=lax off;', /^invalid number of arguments in "userid_flags" directive in \S+:3$/],
    ['location / { if ($args) { userid on; } }', /^"userid" directive is not allowed here in \S+:3$/],
  ];
  const fine = ['userid_flags off secure;', 'userid_domain none; userid_p3p none; userid_expires 0;', 'userid_path ""; userid v1;'];
  it('tresty', () => {
    for (const [c, re] of errs) expect(confErrorOf(serverConf(c)).message, c).toMatch(re);
    for (const c of fine) expect(() => confErrorOf(serverConf(c)), c).toThrow('expected a conf error');
    const w = loadConfText(serverConf('userid_flags secure samesite=strict secure; location / { userid_flags samesite=strict samesite=lax; }')).warnings ?? [];
    expect(w.map((x) => x.replace(/ in \S+:\d+$/, ''))).toEqual(['duplicate value "secure"', 'duplicate value "samesite=lax"']);
  });
  it.skipIf(nginxMissing() !== null)('nginx', () => {
    for (const [c, re] of errs) expect(nginxConfError(c), c).toMatch(new RegExp(re.source.replace(/^\^/, '').replace(/ in \\S\+:3\$$/, '')));
    for (const c of fine) expect(nginxConfError(c), c).toBeNull();
    expect(nginxConfWarnings('userid_flags secure samesite=strict secure; location / { userid_flags samesite=strict samesite=lax; }')).toEqual(['duplicate value "secure"', 'duplicate value "samesite=lax"']);
  });
});
