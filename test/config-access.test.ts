// The access-module directives (map, allow/deny, real_ip, limit_req/limit_conn, auth_basic,
// limit_except) as the conf loader reads them: what they resolve to, and nginx's messages
// (ending `in FILE:LINE`) for the mistakes users make.
import { describe, expect, it } from 'vitest';
import { confErrorOf, loadConfText, serverConf } from './helpers/conf-load.js';

const load = (conf: string) => loadConfText(conf, { inConf: true });
const errorOf = (conf: string) => confErrorOf(conf, { inConf: true });
const server = serverConf;

describe('map in the conf', () => {
  it('reads exact keys (lower-cased), regexes, wildcards and flags; map_hash_* are accepted', () => {
    const conf = load(server('', `map_hash_max_size 4096; map_hash_bucket_size 128;
      map $host $m { hostnames; volatile; default d; Www.A.com e; *.b.com s; .c.com c; www.d.* t; ~^(?<x>z)$ r; }`));
    const m = conf.http!.maps.get('m')!;
    expect(m.hostnames).toBe(true);
    expect(m.volatile).toBe(true);
    expect([...m.exact.keys()].sort()).toEqual(['c.com', 'www.a.com']);
    expect(m.startWild.map((w) => w.suffix)).toEqual(['.b.com', '.c.com']);
    expect(m.endWild.map((w) => w.prefix)).toEqual(['www.d.']);
    expect(conf.http!.mapCaptures.has('x')).toBe(true);
  });

  it('refuses what nginx refuses, naming file:line', () => {
    expect(errorOf(server('', 'map $a b { }'))).toMatchObject({ code: 'TRESTY_ERR_CONF_VALUE', message: expect.stringMatching(/invalid variable name "b" in .*nginx.conf:1/) });
    expect(errorOf(server('', 'map $a $b {\n x 1 2; }'))).toMatchObject({ code: 'TRESTY_ERR_CONF_ARGS', message: expect.stringMatching(/invalid number of the map parameters in .*:2/) });
    expect(errorOf(server('', 'map $a $b { x 1; X 2; }')).message).toMatch(/conflicting parameter "X"/);
    expect(errorOf(server('', 'map $a $b { x 1; } map $c $b { y 1; }')).message).toMatch(/the duplicate "b" variable/);
    expect(errorOf(server('', 'map $a $b { ~(unclosed 1; }')).message).toMatch(/pcre_compile\(\) failed/);
    expect(errorOf(server('', 'map_hash_max_size big;')).code).toBe('TRESTY_ERR_CONF_VALUE');
    expect(errorOf(server('map $a $b { x 1; }')).code).toBe('TRESTY_ERR_CONF_NOT_ALLOWED');
  });
});

describe('allow/deny, satisfy and realip in the conf', () => {
  it('parses addresses, CIDRs (keeping the network part), IPv6, unix: and all; inherits as nginx', () => {
    const conf = load(server(`allow 10.1.2.3/8; deny 2001:db8::/32; allow unix:; deny all;
      location /a { } location /b { allow 127.0.0.1; satisfy any; }`, 'set_real_ip_from 192.168.0.0/16; real_ip_recursive on;'));
    const [a, b] = conf.http!.servers[0].locations;
    expect(a.accessRules.map((r) => [r.deny, r.kind, [...r.addr].join('.')])).toEqual([
      [false, 'v4', '10.0.0.0'], [true, 'v6', '32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.0'], [false, 'unix', ''], [true, 'all', ''],
    ]);
    expect(b.accessRules).toHaveLength(1);
    expect(b.satisfyAny).toBe(true);
    expect(a.satisfyAny).toBe(false);
    expect(a.realIp).toMatchObject({ header: 'x-real-ip', recursive: true });
    expect(a.realIp!.from).toHaveLength(1);
    const plain = load(server('location /a { }'));
    expect(plain.http!.servers[0].locations[0]).toMatchObject({ accessRules: [], satisfyAny: false, realIp: null });
  });

  it('refuses what nginx refuses, naming file:line', () => {
    expect(errorOf(server('allow 300.1.1.1;'))).toMatchObject({ code: 'TRESTY_ERR_CONF_VALUE', message: expect.stringMatching(/invalid parameter "300.1.1.1" in .*nginx.conf:3/) });
    expect(errorOf(server('deny 10.0.0.0/33;')).message).toMatch(/invalid parameter "10.0.0.0\/33"/);
    expect(errorOf(server('deny;')).code).toBe('TRESTY_ERR_CONF_ARGS');
    expect(errorOf(server('satisfy some;')).message).toMatch(/it must be "all" or "any"/);
    expect(errorOf(server('set_real_ip_from nohost;')).message).toMatch(/invalid parameter "nohost"/);
    expect(errorOf(server('real_ip_recursive yes;')).message).toMatch(/it must be "on" or "off"/);
    expect(errorOf(server('real_ip_header proxy_protocol;')).message).toMatch(/not supported/);
  });
});

describe('limit_req / limit_conn in the conf', () => {
  it('reads zones (each its own js_shared_dict zone), rules, statuses, levels and dry runs; inherits as nginx', () => {
    const conf = load(server(`limit_req zone=one burst=5 nodelay; limit_req_status 429;
      location /a { } location /b { limit_req zone=one delay=2; limit_conn c 10; limit_conn_log_level warn; limit_conn_dry_run on; }`,
    'limit_req_zone $binary_remote_addr zone=one:1m rate=30r/m; limit_conn_zone $host zone=c:64k;'));
    expect(conf.http!.limitZones.get('one')).toMatchObject({ kind: 'req', dict: 'limit_req:one', rate: 500 });
    expect(conf.sharedDicts.get('limit_req:one')).toMatchObject({ size: 1024 * 1024 });
    expect(conf.sharedDicts.get('limit_conn:c')).toMatchObject({ size: 64 * 1024 });
    const [a, b] = conf.http!.servers[0].locations;
    expect(a.limits).toMatchObject({ req: [{ zone: 'one', burst: 5000, delay: Infinity }], reqStatus: 429, conn: [] });
    expect(b.limits).toMatchObject({ req: [{ zone: 'one', burst: 0, delay: 2000 }], reqStatus: 429, conn: [{ zone: 'c', conn: 10 }], connLogLevel: 'warn', connDryRun: true });
    expect(load(server('location /a { }')).http!.servers[0].locations[0].limits).toBeNull();
  });

  it('refuses what nginx refuses, naming file:line', () => {
    const z = 'limit_req_zone $binary_remote_addr zone=one:64k rate=1r/s;'; // a known key: an unknown one is refused first, as nginx's
    expect(errorOf(server('', 'limit_req_zone $a zone=one:64k rate=1r/h;')).message).toMatch(/invalid rate "rate=1r\/h"/);
    expect(errorOf(server('', 'limit_req_zone $a zone=one:64k rate=1r/s sync;')).code).toBe('TRESTY_ERR_CONF_ARGS');
    expect(errorOf(server('', 'limit_req_zone $a zone=one:4k rate=1r/s;')).message).toMatch(/zone "one" is too small/);
    expect(errorOf(server('', 'limit_req_zone $a rate=1r/s x=1;')).message).toMatch(/invalid parameter "x=1"/);
    expect(errorOf(server('limit_req zone=nope;', z))).toMatchObject({ code: 'TRESTY_ERR_CONF_VALUE', message: expect.stringMatching(/unknown limit_req_zone "nope" in .*nginx.conf:3/) });
    expect(errorOf(server('limit_req burst=3;', z)).message).toMatch(/"limit_req" must have "zone" parameter/);
    expect(errorOf(server('limit_req zone=one burst=x;', z)).message).toMatch(/invalid burst value "burst=x"/);
    expect(errorOf(server('limit_req_status 302;', z)).message).toMatch(/value must be between 400 and 599/);
    expect(errorOf(server('limit_req_log_level crit;', z)).message).toMatch(/invalid value "crit"/);
    expect(errorOf(server('limit_conn c 0;', 'limit_conn_zone $a zone=c:64k;')).message).toMatch(/invalid number of connections "0"/);
    expect(errorOf(server('limit_conn one 1;', z)).message).toMatch(/unknown limit_conn_zone "one"/);
  });
});

describe('auth_basic in the conf', () => {
  it('merges realm and file apart (off, a file next to the main conf); none without a user file', () => {
    const conf = load(server(`auth_basic_user_file pw/htpasswd;
      location /a { auth_basic "R"; } location /b { auth_basic off; } location /c { }`));
    const [a, b, c] = conf.http!.servers[0].locations;
    expect(a.authBasic).toMatchObject({ realm: ['R'], file: ['pw/htpasswd'] });
    expect(a.authBasic!.confDir).toMatch(/conf$/);
    expect(b.authBasic).toBeNull();
    expect(c.authBasic).toBeNull();
  });

  it('refuses a wrong argument count', () => {
    expect(errorOf(server('auth_basic;')).code).toBe('TRESTY_ERR_CONF_ARGS');
    expect(errorOf(server('auth_basic_user_file a b;')).code).toBe('TRESTY_ERR_CONF_ARGS');
  });
});

describe('limit_except in the conf', () => {
  it('names methods (GET brings HEAD) and gives the others the block\'s access settings over the location\'s', () => {
    const conf = load(server('location /a { deny 10.0.0.1; satisfy any; limit_except get POST { allow 10.0.0.0/8; deny all; } } location /b { }'));
    const [a, b] = conf.http!.servers[0].locations;
    expect([...a.limitExcept!.methods].sort()).toEqual(['GET', 'HEAD', 'POST']);
    expect(a.limitExcept!.access.accessRules).toHaveLength(2);
    expect(a.limitExcept!.access.satisfyAny).toBe(true);
    expect(a.accessRules).toHaveLength(1);
    expect(b.limitExcept).toBeNull();
  });

  it('refuses an unknown method, other directives inside, and limit_except outside a location', () => {
    expect(errorOf(server('location /a { limit_except FETCH { deny all; } }')).message).toMatch(/invalid method "FETCH"/);
    expect(errorOf(server('location /a { limit_except GET { root /x; } }')).code).toBe('TRESTY_ERR_CONF_NOT_ALLOWED');
    expect(errorOf(server('limit_except GET { deny all; }')).code).toBe('TRESTY_ERR_CONF_NOT_ALLOWED');
  });
});
