// nginx's dav module: PUT, DELETE, MKCOL, COPY and MOVE with dav_methods, create_full_put_path,
// dav_access and min_delete_depth, one sequence of requests run on the native engine, node:http
// and nginx 1.22 (each in its own prefix), statuses, heads and error-log lines compared.
import { describe, expect, it } from 'vitest';
import { compatSuite } from './helpers/compat.js';
import { confErrorOf, loadConfText, serverConf } from './helpers/conf-load.js';
import { nginxConfError, nginxConfWarnings, nginxMissing } from './helpers/nginx.js';
import { type Case, type Expect, phaseSuite } from './helpers/phases-harness.js';

const files = { 'html/d/.keep': '', 'html/f/.keep': '', 'html/m/b.txt': 'b\n', 'html/m/x/a.txt': 'a\n' };

const conf = `location /d/ { dav_methods PUT DELETE MKCOL COPY MOVE; dav_access user:rw group:rw all:r; }
    location /f/ { dav_methods put; create_full_put_path on; }
    location /m/ { dav_methods DELETE; min_delete_depth 3; }
    location /n/ { }`;

const LOC = (p: string): RegExp => new RegExp(`^http://127\\.0\\.0\\.1:\\d+${p.replace(/\./g, '\\.')}$`);
const EMPTY_201 = { 'content-type': undefined, 'content-length': '0' };
const dest = (d: string, more: Record<string, string> = {}): Record<string, string> => ({ destination: d, ...more });

const requests: Expect[] = [
  { method: 'PUT', path: '/d/a.txt', body: 'hello', status: 201, resHeaders: { location: LOC('/d/a.txt'), ...EMPTY_201 } },
  { method: 'PUT', path: '/d/a.txt', body: 'hello2', status: 204, resHeaders: { location: undefined } },
  { path: '/d/a.txt', status: 200, resBody: 'hello2' },
  { method: 'PUT', path: '/d/', body: 'x', status: 409 },
  { method: 'PUT', path: '/d/no/b.txt', body: 'x', status: 500 },
  { method: 'PUT', path: '/f/deep/er/c.txt', body: 'c', status: 201, resHeaders: { location: LOC('/f/deep/er/c.txt') } },
  { path: '/f/deep/er/c.txt', status: 200, resBody: 'c' },
  { method: 'PUT', path: '/d/r.txt', headers: { 'content-range': 'bytes 0-1/2' }, body: 'hi', status: 501 },
  { method: 'PUT', path: '/n/x.txt', body: 'x', status: 405 },
  { method: 'DELETE', path: '/f/deep/er/c.txt', status: 405 },
  { method: 'MKCOL', path: '/d/col/', status: 201, resHeaders: { location: LOC('/d/col/'), ...EMPTY_201 } },
  { method: 'MKCOL', path: '/d/col/', status: 405 },
  { method: 'MKCOL', path: '/d/col2', status: 409 },
  { method: 'MKCOL', path: '/d/col3/', headers: { 'content-length': '1' }, body: 'x', status: 415 },
  { method: 'COPY', path: '/d/a.txt', headers: dest('/d/b.txt'), status: 204 },
  { method: 'COPY', path: '/d/a.txt', headers: dest('/d/b.txt', { overwrite: 'F' }), status: 412 },
  { method: 'COPY', path: '/d/a.txt', headers: dest('/d/b.txt', { overwrite: 'x' }), status: 400 },
  { method: 'COPY', path: '/d/a.txt', headers: dest('/d/b.txt', { depth: '1' }), status: 400 },
  { method: 'COPY', path: '/d/a.txt', headers: dest('http://other/d/q.txt'), status: 400 },
  { method: 'COPY', path: '/d/a.txt', headers: dest('ftp://x/d/q.txt'), status: 400 },
  { method: 'COPY', path: '/d/a.txt', status: 400 },
  { method: 'COPY', path: '/d/a.txt', headers: dest('/d/z.txt', { 'content-length': '1' }), body: 'x', status: 415 },
  { method: 'COPY', path: '/d/nope.txt', headers: dest('/d/z.txt'), status: 404 },
  { path: '/d/b.txt', status: 200, resBody: 'hello2' },
  { method: 'MOVE', path: '/d/b.txt', headers: dest('/d/q/m.txt'), status: 204 },
  { path: '/d/q/m.txt', status: 200, resBody: 'hello2' },
  { path: '/d/b.txt', status: 404 },
  { method: 'MOVE', path: '/d/a.txt', headers: dest('/d/c.txt', { depth: '0' }), status: 400 },
  { method: 'COPY', path: '/d/col/', headers: dest('/d/col9/'), status: 201, resHeaders: { location: undefined, ...EMPTY_201 } },
  { method: 'COPY', path: '/d/col/', headers: dest('/d/col8'), status: 409 },
  { method: 'MOVE', path: '/d/q/', headers: dest('/d/q2/'), status: 201 },
  { path: '/d/q2/m.txt', status: 200, resBody: 'hello2' },
  { method: 'DELETE', path: '/d/col', status: 409 },
  { method: 'DELETE', path: '/d/col/', headers: { depth: '0' }, status: 400 },
  { method: 'DELETE', path: '/d/col/', status: 204 },
  { method: 'DELETE', path: '/d/nope.txt', status: 404 },
  { method: 'DELETE', path: '/d/a.txt', headers: { depth: '1' }, status: 400 },
  { method: 'DELETE', path: '/d/a.txt', headers: { 'content-length': '1' }, body: 'x', status: 415 },
  { method: 'DELETE', path: '/d/a.txt', status: 204 },
  { path: '/d/a.txt', status: 404 },
  { method: 'DELETE', path: '/m/b.txt', status: 409 },
  { method: 'DELETE', path: '/m/x/a.txt', status: 204 },
];

const cases: Case[] = [{
  name: 'PUT, DELETE, MKCOL, COPY and MOVE as nginx answers them',
  conf, lua: conf, requests, once: true,
  errorLog: [
    'cannot PUT to a collection',
    /\[crit\] .*rename\(\) "\S+" to "\S+\/html\/d\/no\/b\.txt" failed \(2: No such file or directory\)/,
    'PUT with range is unsupported',
    /mkdir\(\) "\S+\/html\/d\/col" failed \(17: File exists\)/,
    'MKCOL can create a collection only',
    'MKCOL with body is unsupported',
    /"\S+\/html\/d\/b\.txt" could not be created \(17: File exists\)/,
    'client sent invalid "Overwrite" header: "x"',
    '"Depth" header must be 0 or infinity',
    '"Destination" URI "http://other/d/q.txt" is handled by different repository than the source URI',
    'client sent invalid "Destination" header: "ftp://x/d/q.txt"',
    'client sent no "Destination" header',
    'COPY and MOVE with body are unsupported',
    /lstat\(\) "\S+\/html\/d\/nope\.txt" failed \(2: No such file or directory\)/,
    '"Depth" header must be infinity',
    'both URI "/d/col/" and "Destination" URI "/d/col8" should be either collections or non-collections',
    /DELETE "\S+\/html\/d\/col" failed \(21: Is a directory\)/,
    'DELETE with body is unsupported',
    'insufficient URI depth:2 to DELETE',
  ],
}];

compatSuite('dav', { files }, cases);
phaseSuite('dav on node:http', { http: 'http_engine node;', files }, cases);

describe('dav conf errors, as nginx -t', () => {
  const errs: Array<[string, RegExp]> = [
    ['location / { dav_methods GET; }', /^invalid value "GET" in \S+:3$/],
    ['location / { dav_access user:x; }', /^invalid value "user:x" in \S+:3$/],
    ['location / { dav_access user:rw group:rw all:r all:r; }', /^invalid number of arguments in "dav_access" directive in \S+:3$/],
    ['location / { min_delete_depth x; }', /^"min_delete_depth" directive invalid number in \S+:3$/],
    ['location / { create_full_put_path maybe; }', /^invalid value "maybe" in "create_full_put_path" directive, it must be "on" or "off" in \S+:3$/],
  ];
  const fine = ['location / { dav_methods off PUT; dav_methods delete; dav_access group:r all:rw; }'];
  it('tresty', () => {
    for (const [c, re] of errs) expect(confErrorOf(serverConf(c)).message, c).toMatch(re);
    for (const c of fine) expect(() => confErrorOf(serverConf(c)), c).toThrow('expected a conf error');
    const w = loadConfText(serverConf('location / { dav_methods PUT put; }')).warnings ?? [];
    expect(w.map((x) => x.replace(/ in \S+:\d+$/, ''))).toEqual(['duplicate value "put"']);
  });
  it.skipIf(nginxMissing() !== null)('nginx', () => {
    for (const [c, re] of errs) expect(nginxConfError(c), c).toMatch(new RegExp(re.source.replace(/^\^/, '').replace(/ in \\S\+:3\$$/, '')));
    for (const c of fine) expect(nginxConfError(c), c).toBeNull();
    expect(nginxConfWarnings('location / { dav_methods PUT put; }')).toEqual(['duplicate value "put"']);
  });
});
