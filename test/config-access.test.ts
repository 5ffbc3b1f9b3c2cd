// The access-module directives (map, allow/deny, real_ip, limit_req/limit_conn, auth_basic,
// limit_except) as the conf loader reads them: what they resolve to, and nginx's messages
// (ending `in FILE:LINE`) for the mistakes users make.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConf } from '../src/config/index.js';

function load(conf: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tresty-conf-'));
  mkdirSync(path.join(dir, 'conf'));
  writeFileSync(path.join(dir, 'conf/nginx.conf'), conf);
  return loadConf({ file: 'conf/nginx.conf', prefix: dir }).conf;
}

const server = (body: string, http = ''): string => `events {} http { ${http}\nserver { listen 127.0.0.1:8080;\n${body}\n} }`;

function errorOf(conf: string): { code: string; message: string } {
  try { load(conf); } catch (e) { return e as { code: string; message: string }; }
  throw new Error('expected a conf error');
}

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
