// nginx's `map`: exact strings (ignoring case), `~` / `~*` regexes with captures in the value and
// named captures as variables, `default`, `\`-escaped special words, `hostnames` wildcards,
// `include`, `volatile`, values with variables; read by `return`, `set`, `if` and ngx.var. The
// Lua form runs on real nginx with the same expectations; the JS form on both HTTP engines.
import { compatSuite } from './helpers/compat.js';
import { phaseSuite, type Case } from './helpers/phases-harness.js';

const MAPS = (inc: string): string => `
  map $arg_k $mv {
    default dflt;
    Abc exact-abc;
    ~^re(?<num>\\d+)-(.*)$ re:$1:$2:$num;
    ~*^CI(.*) ci:$1;
    ~^nocap plain-re;
    \\default escaped;
    "" emptykey;
    include ${inc};
  }
  map $arg_nope $mnf { default $arg_nope; }
  map $http_host $hn {
    hostnames;
    default none;
    .example.com dot;
    *.foo.com star;
    *.a.foo.com longer-star;
    www.bar.* tail;
    exact.foo.com exact;
  }
  map $arg_v $vol { volatile; default "v=$arg_v"; }
  map $arg_v $cached { default "v=$arg_v"; }
  map "$arg_a:$arg_b" $pair { "1:2" one-two; default "other:$arg_a"; }
  map $mv $chained { exact-abc from-abc; default no; }`;

const files = { 'conf/map.inc': 'fromfile from-include;\n' };

const cases: Case[] = [
  {
    name: 'exact strings match ignoring case; regexes in order, captures in the value; default; \\default',
    conf: 'location = /m { return 200 "mv=$mv one=$1 num=$num\\n"; }',
    lua: 'location = /m { return 200 "mv=$mv one=$1 num=$num\\n"; }',
    requests: [
      { path: '/m?k=abc', resBody: 'mv=exact-abc one= num=\n' },
      { path: '/m?k=ABC', resBody: 'mv=exact-abc one= num=\n' },
      { path: '/m?k=re12-xy', resBody: 'mv=re:12:xy:12 one=12 num=12\n' },
      { path: '/m?k=cifoo', resBody: 'mv=ci:foo one=foo num=\n' },
      { path: '/m?k=nocapzz', resBody: 'mv=plain-re one= num=\n' },
      { path: '/m?k=default', resBody: 'mv=escaped one= num=\n' },
      { path: '/m?k=', resBody: 'mv=emptykey one= num=\n' },
      { path: '/m?k=zz', resBody: 'mv=dflt one= num=\n' },
      { path: '/m?k=fromfile', resBody: 'mv=from-include one= num=\n' },
    ],
  },
  {
    name: 'hostnames: exact, .name, *.name (longest first), name.*, a trailing dot, case',
    conf: 'location = /h { return 200 "hn=$hn\\n"; }',
    lua: 'location = /h { return 200 "hn=$hn\\n"; }',
    requests: [
      { path: '/h', headers: { host: 'example.com' }, resBody: 'hn=dot\n' },
      { path: '/h', headers: { host: 'a.example.com' }, resBody: 'hn=dot\n' },
      { path: '/h', headers: { host: 'x.foo.com' }, resBody: 'hn=star\n' },
      { path: '/h', headers: { host: 'z.a.foo.com' }, resBody: 'hn=longer-star\n' },
      { path: '/h', headers: { host: 'foo.com' }, resBody: 'hn=none\n' },
      { path: '/h', headers: { host: 'www.bar.org' }, resBody: 'hn=tail\n' },
      { path: '/h', headers: { host: 'EXACT.foo.com.' }, resBody: 'hn=exact\n' },
      { path: '/h', headers: { host: 'other' }, resBody: 'hn=none\n' },
    ],
  },
  {
    name: 'a source with several variables; a map of a map; a value of a missing variable is empty',
    conf: 'location = /p { return 200 "pair=$pair chained=$chained mnf=[$mnf]\\n"; }',
    lua: 'location = /p { return 200 "pair=$pair chained=$chained mnf=[$mnf]\\n"; }',
    requests: [
      { path: '/p?a=1&b=2&k=Abc', resBody: 'pair=one-two chained=from-abc mnf=[]\n' },
      { path: '/p?a=7', resBody: 'pair=other:7 chained=no mnf=[]\n' },
    ],
  },
  {
    name: 'cached for the request unless volatile: read before and after set $args changes its source',
    conf: 'location = /vol { set $before "$vol|$cached"; set $args "v=2"; return 200 "$before $vol|$cached\\n"; }',
    lua: 'location = /vol { set $before "$vol|$cached"; set $args "v=2"; return 200 "$before $vol|$cached\\n"; }',
    requests: [{ path: '/vol?v=1', resBody: 'v=1|v=1 v=2|v=1\n' }],
  },
  {
    name: 'if and ngx.var read a map',
    conf: 'location = /if { if ($mv = exact-abc) { return 200 "if-hit\\n"; } content_by_js_block { ngx.say(ngx.var.mv, " ", ngx.var.mnf === "" ? "empty" : "other") } }',
    lua: 'location = /if { if ($mv = exact-abc) { return 200 "if-hit\\n"; } content_by_lua_block { ngx.say(ngx.var.mv, " ", ngx.var.mnf == "" and "empty" or "other") } }',
    requests: [{ path: '/if?k=aBc', resBody: 'if-hit\n' }, { path: '/if?k=q', resBody: 'dflt empty\n' }],
  },
];

compatSuite('map', { http: MAPS('map.inc'), luaHttp: MAPS('__PREFIX__/conf/map.inc'), files }, cases);
phaseSuite('map on node:http', { http: `http_engine node; ${MAPS('map.inc')}`, files }, cases);
