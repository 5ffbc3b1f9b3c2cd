// `map` / `set` onto a built-in variable: nginx refuses the read-only ones at load ("the duplicate
// "uri" variable") and lets $args / $limit_rate be taken (a map then replaces $args's value).
// Observed on nginx 1.22; the refusals are checked against `nginx -t` where nginx is installed.
import { describe, expect, it } from 'vitest';
import { builtinVarNames } from '../src/api/vars.js';
import { BUILTIN_VAR_NAMES, isFixedVar } from '../src/config/var-names.js';
import { compatSuite } from './helpers/compat.js';
import { confErrorOf, loadConfText, serverConf } from './helpers/conf-load.js';
import { nginxConfError, nginxMissing } from './helpers/nginx.js';
import { phaseSuite, type Case } from './helpers/phases-harness.js';

describe('built-in variable names', () => {
  it('config/var-names.ts lists exactly what api/vars.ts computes', () => {
    expect([...BUILTIN_VAR_NAMES].sort()).toEqual(builtinVarNames().sort());
  });
  it("only $args, $limit_rate, $invalid_referer, $uid_reset and the browser module's three are changeable; prefixed families are not built-ins here", () => {
    // nginx 1.22 takes `set $invalid_referer ...` and `set $uid_reset ...` (the referer and userid
    // modules add them as changeable).
    expect(BUILTIN_VAR_NAMES.filter((n) => !isFixedVar(n)).sort()).toEqual(['ancient_browser', 'args', 'invalid_referer', 'limit_rate', 'modern_browser', 'msie', 'uid_reset']);
    expect(isFixedVar('upstream_addr')).toBe(true);
    for (const n of ['arg_x', 'http_foo', 'cookie_a', 'sent_http_x', 'proxy_host', 'mine']) expect(isFixedVar(n)).toBe(false);
  });
});

// [conf text (http part, server part), tresty's error (null: accepted), line of the directive]
const CONFS: Array<[string, string, string | null]> = [
  ['map $arg_a $uri { default x; }', '', 'the duplicate "uri" variable'],
  ['map $arg_a $request_method { default x; }', '', 'the duplicate "request_method" variable'],
  ['', 'location / { set $host x; }', 'the duplicate "host" variable'],
  ['', 'set $remote_addr x;', 'the duplicate "remote_addr" variable'],
  ['', 'location / { set $upstream_addr x; }', 'the duplicate "upstream_addr" variable'],
  ['map $arg_a $args { default x; }', '', null],
  ['map $arg_a $limit_rate { default 5; }', 'location / { set $args x; set $limit_rate 1k; set $arg_q 1; set $http_x 1; }', null],
];

describe('map / set onto a built-in: refused at load with file:line, as nginx', () => {
  for (const [http, server, want] of CONFS) {
    it(`${http}${server} -> ${want ?? 'accepted'}`, () => {
      const conf = serverConf(server, http);
      if (want === null) {
        expect(() => loadConfText(conf, { inConf: true })).not.toThrow();
        return;
      }
      const e = confErrorOf(conf, { inConf: true });
      expect(e.code).toBe('TRESTY_ERR_CONF_DUPLICATE');
      // serverConf: the http part on line 1, the server's body on line 3.
      expect(e.message).toMatch(new RegExp(`^${want} in .*conf/nginx\\.conf:${http ? 1 : 3}$`));
    });
  }
  const missing = nginxMissing();
  it.skipIf(missing !== null)(`nginx -t says the same${missing ? ` (skipped: ${missing})` : ''}`, () => {
    for (const [http, server, want] of CONFS) {
      const got = nginxConfError(server, http);
      if (want === null) expect(got).toBeNull();
      else expect(got).toMatch(new RegExp(`\\[emerg\\] ${want} in PREFIX/nginx\\.conf:\\d+`));
    }
  });
});

const MAP_ARGS = 'map $arg_m $args { default "mapped-$arg_m"; }';
const cases: Case[] = [
  {
    name: 'a map onto $args replaces its value; $arg_* still read the query',
    conf: 'location = /a { return 200 "args=$args m=$arg_m\\n"; }',
    lua: 'location = /a { return 200 "args=$args m=$arg_m\\n"; }',
    requests: [{ path: '/a?m=1', resBody: 'args=mapped-1 m=1\n' }],
  },
];
compatSuite('map onto $args', { http: MAP_ARGS, luaHttp: MAP_ARGS }, cases);
phaseSuite('map onto $args on node:http', { http: `http_engine node; ${MAP_ARGS}` }, cases);
