// Server selection: listen address/port first, then server_name (exact, *.start, end.*, ~regex
// in order), else default_server or the first server of that listen.
import { describe, expect, it } from 'vitest';
import type { HttpConf, ServerConf, ServerName } from '../src/config/types.js';
import { groupFor, normalizeHost, planBinds, selectServer } from '../src/http/vhost.js';

function name(v: string): ServerName {
  if (v.startsWith('~')) return { kind: 'regex', value: v, regex: new RegExp(v.slice(1)) };
  if (v.startsWith('*.')) return { kind: 'wildcard_start', value: v };
  if (v.startsWith('.')) return { kind: 'wildcard_start', value: v };
  if (v.endsWith('.*')) return { kind: 'wildcard_end', value: v };
  return { kind: 'exact', value: v };
}
function srv(id: string, listen: string[], names: string[]): ServerConf & { id: string } {
  return {
    id,
    listen: listen.map((l) => {
      const [hp, flag] = l.split(' ');
      const i = hp!.lastIndexOf(':');
      return { host: i < 0 ? '' : hp!.slice(0, i), port: Number(i < 0 ? hp : hp!.slice(i + 1)), defaultServer: flag === 'default_server' };
    }),
    serverNames: names.map(name),
  } as unknown as ServerConf & { id: string };
}

const servers = [
  srv('first', ['8080'], ['first.test']),
  srv('exact', ['8080'], ['www.example.com', 'example.com']),
  srv('wild1', ['8080'], ['*.example.com']),
  srv('wild2', ['8080'], ['*.api.example.com']),
  srv('end', ['8080'], ['www.example.*']),
  srv('dot', ['8080'], ['.example.org']),
  srv('re1', ['8080 default_server'], ['~^(\\w+)\\.re\\.test$']),
  srv('re2', ['8080'], ['~^a\\.re\\.test$']),
  srv('local', ['127.0.0.1:8080'], ['www.example.com']),
  srv('solo', ['127.0.0.2:9090'], []),
];
const http = { servers, logFormats: new Map() } as unknown as HttpConf;

describe('vhost', () => {
  const binds = planBinds(http);
  const any8080 = binds.find((b) => b.port === 8080)!;
  const pick = (host: string | undefined, local = '10.0.0.1'): string =>
    (selectServer(groupFor(any8080, local), host) as ServerConf & { id: string }).id;

  it('binds a wildcard port once and a lone address on its own', () => {
    expect(binds.map((b) => `${b.host}:${b.port}`).sort()).toEqual(['127.0.0.2:9090', ':8080']);
  });

  it.each([
    ['www.example.com', 'exact'],
    ['WWW.Example.COM:8080', 'exact'],
    ['example.com.', 'exact'],
    ['a.example.com', 'wild1'],
    ['x.api.example.com', 'wild2'],
    ['www.example.net', 'end'],
    ['example.org', 'dot'],
    ['sub.example.org', 'dot'],
    ['a.re.test', 're1'],
    ['unknown.test', 're1'],
    [undefined, 're1'],
  ])('Host %s → %s', (host, expected) => {
    expect(pick(host)).toBe(expected);
  });

  it('a server on a specific address takes that address only', () => {
    expect(pick('www.example.com', '127.0.0.1')).toBe('local');
    expect(pick('first.test', '::ffff:127.0.0.1')).toBe('local');
    expect(pick('first.test', '10.0.0.1')).toBe('first');
  });

  it('normalizes Host headers', () => {
    expect(normalizeHost('[::1]:80')).toBe('[::1]');
    expect(normalizeHost('Foo.COM.')).toBe('foo.com');
  });
});
