// nginx's secure_link module: $secure_link and $secure_link_expires in the MD5 mode (secure_link +
// secure_link_md5) and the secret mode (secure_link_secret), the same conf on both engines and on
// nginx 1.22. Before, tresty refused these directives as "unknown directive".
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compatSuite } from './helpers/compat.js';
import { confErrorOf, serverConf } from './helpers/conf-load.js';
import { nginxConfError, nginxMissing } from './helpers/nginx.js';
import { phaseSuite, type Case, type Expect } from './helpers/phases-harness.js';

const b64 = (s: string): string => createHash('md5').update(s).digest('base64url');
const hex = (s: string): string => createHash('md5').update(s).digest('hex');

const conf = `
    location = /m/x { secure_link $arg_md5,$arg_e; secure_link_md5 "$secure_link_expires$uri secret"; return 200 "[$secure_link][$secure_link_expires]"; }
    location = /n/x { secure_link $arg_md5; secure_link_md5 "$uri secret"; return 200 "[$secure_link][$secure_link_expires]"; }
    location /p/ { secure_link_secret sec; return 200 "[$secure_link]"; }
    location = /x { return 200 "[$secure_link]"; }
    location /inh/ { secure_link $arg_md5; location /inh/a { secure_link_md5 "$uri"; return 200 "[$secure_link]"; } }`;

const future = String(Math.floor(Date.now() / 1000) + 3600);
const past = '1000';
const m = (md5: string, e: string): string => `/m/x?md5=${md5}&e=${e}`;
const link = 'link/x.txt?a=1';
const requests: Expect[] = [
  { path: m(b64(`${future}/m/x secret`), future), resBody: `[1][${future}]` },
  { path: m(b64(`${past}/m/x secret`), past), resBody: `[0][${past}]` },
  { path: m(b64(`${past}/m/x secretX`), past), resBody: `[][${past}]` },
  { path: m(`${b64(`${future}/m/x secret`)}==`, future), resBody: `[1][${future}]` },
  { path: m(`${b64(`${future}/m/x secret`)}AAA`, future), resBody: `[][${future}]` },
  { path: m(b64(`${future}/m/x secret`).replace(/-/g, '+').replace(/_/g, '/'), future), status: 200 },
  { path: m(b64('0/m/x secret'), '0'), resBody: '[][]' },
  { path: m(b64('/m/x secret'), ''), resBody: '[][]' },
  { path: m(b64('12a/m/x secret'), '12a'), resBody: '[][]' },
  { path: '/m/x', resBody: '[][]' },
  { path: `/n/x?md5=${b64('/n/x secret')}`, resBody: '[1][]' },
  { path: `/n/x?md5=${b64('/n/x secret').slice(0, 21)}`, resBody: '[][]' },
  { path: `/n/x?md5=${b64('/n/y secret')}`, resBody: '[][]' },
  { path: `/p/${hex(`${link}sec`)}/${link}`, resBody: `[${link}]` },
  { path: `/p/${hex(`${link}sec`).toUpperCase()}/${link}`, resBody: `[${link}]` },
  { path: `/p/${hex(`${link}sec`)}/${link}b`, resBody: '[]' },
  { path: `/p/${hex(`${link}sec`)}x/${link}`, resBody: '[]' },
  { path: `/p/${hex('sec')}/`, resBody: '[]' },
  { path: '/p/nothing', resBody: '[]' },
  { path: '/x', resBody: '[]' },
  { path: `/inh/a?md5=${b64('/inh/a')}`, resBody: '[1]' },
];
// `+` and `/` are not base64url: nginx finds no value (the request above only checks the status).
requests[5] = { ...requests[5]!, resBody: b64(`${future}/m/x secret`).match(/[-_]/) ? `[][${future}]` : `[1][${future}]` };

const cases: Case[] = [{ name: 'the MD5 mode (expiry, base64url, padding) and the secret mode', conf, lua: conf, requests }];
compatSuite('secure_link', {}, cases);
phaseSuite('secure_link on node:http', { http: 'http_engine node;' }, cases);

describe('secure_link conf errors, as nginx -t', () => {
  const mixed = /^"secure_link_secret" cannot be mixed with "secure_link" and "secure_link_md5"/;
  const errs: Array<[string, RegExp]> = [
    ['location / { secure_link_secret s; secure_link $arg_h; }', mixed],
    ['location / { secure_link_md5 x; secure_link_secret s; }', mixed],
    ['location / { secure_link_secret a b; }', /^invalid number of arguments in "secure_link_secret" directive in \S+:3$/],
    ['location / { secure_link $arg_a; secure_link $arg_b; }', /^"secure_link" directive is duplicate in \S+:3$/],
    ['location / { if ($args) { secure_link $arg_a; } }', /^"secure_link" directive is not allowed here in \S+:3$/],
  ];
  const fine = ['secure_link_secret s;', 'secure_link $arg_a; location / { secure_link_secret s; }'];
  it('tresty (a mix is reported at the http block\'s end, as nginx merges there)', () => {
    for (const [c, re] of errs) expect(confErrorOf(serverConf(c)).message, c).toMatch(re);
    expect(confErrorOf(serverConf(errs[0]![0])).message).toMatch(/nginx\.conf:4$/);
    for (const c of fine) expect(() => confErrorOf(serverConf(c)), c).toThrow('expected a conf error');
  });
  it.skipIf(nginxMissing() !== null)('nginx', () => {
    for (const [c, re] of errs) expect(nginxConfError(c), c).toMatch(new RegExp(re.source.replace(/^\^/, '').replace(/ in \\S\+:3\$$/, '')));
    for (const c of fine) expect(nginxConfError(c), c).toBeNull();
  });
});
