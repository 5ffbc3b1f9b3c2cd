// nginx's split_clients: the MurmurHash2 of the string picks the part, by nginx's bucket
// arithmetic (each percent's share of 0xffffffff, floored, summed). The same conf on both engines
// and on nginx; the expected values were read from nginx 1.22 for 400 keys of 1 to 21 bytes, plus
// keys found to land in a 0.01% part. Before, tresty refused split_clients as "unknown directive".
import { describe, expect, it } from 'vitest';
import { compatSuite } from './helpers/compat.js';
import { confErrorOf } from './helpers/conf-load.js';
import { nginxConfError, nginxMissing } from './helpers/nginx.js';
import { phaseSuite, type Case, type Expect } from './helpers/phases-harness.js';

const http = `
  split_clients "\${arg_k}" $variant { 10% a; 20.5% b; 0.01% t; 33.33% d; * c; }
  split_clients "x$arg_k" $v2 { 50% y; 25% z; }
  split_clients "$http_x_k" $hv { 50% y; * n; }`;

/** nginx's answers for key i = i in base 36, repeated i % 7 + 1 times. */
const NGINX = 'b bz c cy by dz cy cz dy dy dy cy b dy c cz d d by dy dy dy d dy c cy a c ay az b dz bz dz dy dy c cz dy c cz bz c cy dy by by c ay cy cz d by dz d cz dy a by d cy b cy dz cy cy dy dy cy cy cy cy dy cy bz by cy dz cy dz c by cy d dy cy dz cy cz cz cy cz dy b by ay dz dz by b dy c dy dy b c bz cy dz cz cy bz dy d az d c bz dz ay cy dy d cz cy d dy d cz bz cy cz dz dy d a c c dz d cz cy cy b b ay dz dy cz c cy d cz cy cy dy cy dy b c dy b cz dy cy c cy cy cy cy dy cz by d ay d cz cz cy az dy dy d az cy c b by dy c dy dy dy d dz b dy bz d c c d d cy cy cy c d cz cy cy dy a bz b b az c by cy b cy dz b cy ay cy dy b c c dy b a cy dy by cy cy d dy c d cz bz dy a c cy by by by b b d bz c cy dy c cz by dz dy cy cz d by cz by d dy cz by cy ay cz cz dz cy dy c dy cz cy c cz cy dy d dy cy cy ay dz by cy c cz cz dz by dz c d by dy d cy dy dz c c dy cy dy dy ay dy dy cy b a dy cy by ay b cz dz dy dy cy dz b cz c dz bz cy dz by b bz bz bz dz by c dz dy cz c cy cy a cz bz cy dz ay cy by az cy c cy cz by b cz b dy by dy cy dz cy c cy bz cy dy c by cy b by b dz cy cz c dy dz c cz cy cy bz'.split(' ');
const keys = NGINX.map((_, i) => i.toString(36).repeat((i % 7) + 1));
const many: Expect[] = keys.map((k, i) => ({ path: `/sc?k=${k}`, status: 200, resBody: `${NGINX[i]}\n` }));
const edge: Expect[] = [
  ['q16070', 't'], ['q25715', 't'], ['q13113', 'ty'], ['q36858', 'tz'], ['', 'ay'], ['%C3%A9', 'bz'], ['a%20b', 'cy'],
].map(([k, v]) => ({ path: `/sc?k=${k}`, status: 200, resBody: `${v}\n` }));

const SC = 'location = /sc { return 200 "$variant$v2\\n"; }';
// Header bytes past ASCII hash as the bytes the client sent (their UTF-8 forms would fall the other way).
const bytes: Expect[] = [['k\x81', 'n'], ['k\x82', 'y'], ['k\x83', 'n'], ['k\x89', 'y']]
  .map(([k, v]) => ({ path: '/hv', headers: { 'x-k': k }, status: 200, resBody: v }));
const cases: Case[] = [
  { name: '400 keys as nginx splits them', conf: SC, lua: SC, requests: many, once: true },
  {
    name: 'a 0.01% part, the empty string, and what no part takes (empty); read from a handler too',
    conf: 'location = /js { content_by_js_block { ngx.say(ngx.var.variant) } } location = /hv { return 200 $hv; }',
    lua: 'location = /js { content_by_lua_block { ngx.say(ngx.var.variant) } } location = /hv { return 200 $hv; }',
    requests: [...edge, ...bytes, { path: '/js?k=q16070', status: 200, resBody: 't\n' }, { path: '/js?k=0', status: 200, resBody: `${NGINX[0]!.slice(0, 1)}\n` }],
  },
];
compatSuite('split_clients', { http, luaHttp: http }, cases);
phaseSuite('split_clients on node:http', { http: `http_engine node; ${http}` }, cases);

describe('split_clients conf errors, as nginx -t', () => {
  const wrap = (b: string): string => `events {}\nhttp {\n${b}\nserver { listen 127.0.0.1:8080; }\n}\n`;
  const errs: Array<[string, RegExp]> = [
    ['split_clients "$remote_addr" v { 10% a; * b; }', /^invalid variable name "v" in \S+:3$/],
    ['split_clients "$remote_addr" $v { 10 a; }', /^invalid percent value "10" in \S+:3$/],
    ['split_clients "$remote_addr" $v { 0% a; }', /^invalid percent value "0%" in \S+:3$/],
    ['split_clients "$remote_addr" $v { 10.123% a; }', /^invalid percent value "10.123%" in \S+:3$/],
    ['split_clients "$remote_addr" $v { -5% a; }', /^invalid percent value "-5%" in \S+:3$/],
    ['split_clients "$remote_addr" $v { 1.5.5% a; }', /^invalid percent value "1.5.5%" in \S+:3$/],
    ['split_clients "$remote_addr" $v { % a; }', /^invalid percent value "%" in \S+:3$/],
    ['split_clients "$remote_addr" $v {\n 10% a;\n x% b;\n}', /^invalid percent value "x%" in \S+:5$/],
    ['split_clients "$remote_addr" $v {\n 60% a;\n 50% b;\n}', /^percent total is greater than 100% in \S+:6$/],
    ['split_clients "$remote_addr" $v { 50% a; * b; 10% c; }', /^percent total is greater than 100% in \S+:3$/],
    ['split_clients "$remote_addr" $host { * a; }', /^the duplicate "host" variable in \S+:3$/],
    ['split_clients "$remote_addr" $v $w { 10% a; }', /^invalid number of arguments in "split_clients" directive in \S+:3$/],
    ['split_clients "$remote_addr" $v;', /^directive "split_clients" has no opening "\{" in \S+:3$/],
    ['server { split_clients "$remote_addr" $v { 10% a; } }', /^"split_clients" directive is not allowed here in \S+:3$/],
  ];
  const fine = ['split_clients "$remote_addr" $v { }', 'split_clients "$remote_addr" $v { * a; * b; }',
    'split_clients "$remote_addr" $v { 100% a; * b; }', 'split_clients "$remote_addr" $v { 99.99% a; 0.01% b; }'];
  it('tresty', () => {
    for (const [conf, re] of errs) expect(confErrorOf(wrap(conf)).message, conf).toMatch(re);
    for (const conf of fine) expect(() => confErrorOf(wrap(conf)), conf).toThrow('expected a conf error');
  });
  it.skipIf(nginxMissing() !== null)('nginx', () => {
    for (const [conf, re] of errs) {
      const msg = re.source.replace(/^\^/, '').replace(/ in \\S\+:\d\$$/, '');
      expect(nginxConfError('', conf), conf).toMatch(new RegExp(msg));
    }
    for (const conf of fine) expect(nginxConfError('', conf), conf).toBeNull();
  });
});
