// nginx's referer module: valid_referers and $invalid_referer, the same conf on both engines and
// on nginx 1.22, every Referer below against four locations (the values were read from nginx).
// Before, tresty refused valid_referers as "unknown directive".
import { describe, expect, it } from 'vitest';
import { compatSuite } from './helpers/compat.js';
import { confErrorOf, serverConf } from './helpers/conf-load.js';
import { nginxConfError, nginxMissing } from './helpers/nginx.js';
import { phaseSuite, type Case, type Expect } from './helpers/phases-harness.js';

const conf = `
    location = /a { valid_referers none blocked server_names *.example.com .ex.org www.wild.* site.test/gal/ ~\\.google\\. ~^ya/x; return 200 "[$invalid_referer]"; }
    location = /b { valid_referers example.com; return 200 "[$invalid_referer]"; }
    location = /c { return 200 "[$invalid_referer]"; }
    location = /d { valid_referers server_names; return 200 "[$invalid_referer]"; }
    location = /e { valid_referers none; valid_referers www.x.test; set $invalid_referer "$invalid_referer!"; return 200 "[$invalid_referer]"; }
    location = /f { valid_referers ~^a; if ($invalid_referer) { return 403; } return 200 "ok"; }`;

/** null: no Referer header. */
const REFS: Array<string | null> = [
  null, 'x', 'foo.com', 'http://a.example.com/', 'http://example.com/', 'https://A.EXAMPLE.COM:8080/p', 'http://ex.org',
  'http://b.ex.org/x', 'http://www.wild.net/', 'http://www.wild/', 'http://site.test/gal/1', 'http://site.test/gal',
  'http://site.test:81/gal/x', 'http://site.test/GAL/x', 'http://www.google.com/', 'http://ya/x', 'http://ya/y',
  'http://localhost/', 'http://www.site.test/x', 'http://r12.re.test/', 'http://r.re.test/', 'ftp://a.example.com/',
  'http://i.ru', 'http://i.r', 'HTTP://a.example.com', 'http://a.example.com.evil/', 'http:///', 'http://example.com',
  'http://EXAMPLE.com:1/', 'https://google.x', 'http://xgoogle.com/',
];
/** nginx 1.22's $invalid_referer for each of REFS, per location. */
const NGINX: Record<string, string> = {
  a: '0000100001010100100010100101111',
  b: '1111011111111111111111111110011',
  c: '0000000000000000000000000000000',
  d: '1111111111111111100011111111111',
};

const requests: Expect[] = [];
for (const [loc, bits] of Object.entries(NGINX)) {
  REFS.forEach((ref, i) => requests.push({
    path: `/${loc}`, headers: ref === null ? {} : { referer: ref }, status: 200, resBody: `[${bits[i] === '1' ? '1' : ''}]`,
  }));
}
requests.push(
  { path: '/e', status: 200, resBody: '[!]' },
  { path: '/e', headers: { referer: 'http://www.x.test/' }, status: 200, resBody: '[!]' },
  { path: '/e', headers: { referer: 'http://www.y.test/' }, status: 200, resBody: '[1!]' },
  { path: '/f', headers: { referer: 'http://abc/' }, status: 200, resBody: 'ok' },
  { path: '/f', headers: { referer: 'http://xbc/' }, status: 403 },
);

const cases: Case[] = [{ name: 'valid_referers: none, blocked, server_names, wildcards, URI prefixes, regexes', conf, lua: conf, requests }];
const server = 'server_name www.Site.test ~^r(\\d+)\\.re\\.test$;';
compatSuite('valid_referers', { server, luaServer: server }, cases);
phaseSuite('valid_referers on node:http', { http: 'http_engine node;', server }, cases);

describe('valid_referers conf errors, as nginx -t', () => {
  const errs: Array<[string, RegExp]> = [
    ['valid_referers "";', /^invalid referer "" in \S+:3$/],
    ['valid_referers a.*.com;', /^invalid hostname or wildcard "a.\*.com" in \S+:3$/],
    ['valid_referers *.a.*;', /^invalid hostname or wildcard "\*.a.\*" in \S+:3$/],
    ['valid_referers *;', /^invalid hostname or wildcard "\*" in \S+:3$/],
    ['valid_referers *.a.com *.a.com;', /^conflicting parameter "\*.a.com" in \S+:3$/],
    ['valid_referers a.com/x a.com/y;', /^conflicting parameter "a.com" in \S+:3$/],
    ['valid_referers .a.com a.com;', /^conflicting parameter "a.com" in \S+:3$/],
    ['valid_referers;', /^invalid number of arguments in "valid_referers" directive in \S+:3$/],
    ['location / { if ($args) { valid_referers none; } }', /^"valid_referers" directive is not allowed here in \S+:3$/],
    ['referer_hash_max_size x;', /^"referer_hash_max_size" directive invalid number in \S+:3$/],
    ['valid_referers none; valid_referers blocked;', /^the "none" or "blocked" referers are specified in the "valid_referers" directive without any valid referer/],
  ];
  const fine = ['referer_hash_max_size 10; referer_hash_bucket_size 64;', 'valid_referers /x;', 'valid_referers none /x;'];
  it('tresty', () => {
    for (const [c, re] of errs) expect(confErrorOf(serverConf(c)).message, c).toMatch(re);
    for (const c of fine) expect(() => confErrorOf(serverConf(c)), c).toThrow('expected a conf error');
  });
  it.skipIf(nginxMissing() !== null)('nginx', () => {
    for (const [c, re] of errs) expect(nginxConfError(c), c).toMatch(new RegExp(re.source.replace(/^\^/, '').replace(/ in \\S\+:3\$$/, '')));
    for (const c of fine) expect(nginxConfError(c), c).toBeNull();
  });
});
