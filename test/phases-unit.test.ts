// The pure pieces of the pipeline: URI normalization, query args, response headers, time formats.
import { describe, expect, it } from 'vitest';
import { decodeArgs, encodeArgs } from '../src/api/args.js';
import { HeaderStore, headerName } from '../src/api/headers.js';
import { cookieTime, httpTime } from '../src/api/http-date.js';
import { argValue } from '../src/api/vars.js';
import { normalizePath, parseTarget } from '../src/request/uri.js';

describe('uri', () => {
  const cases: Array<[string, string | null]> = [
    ['/a/b', '/a/b'], ['/a//b', '/a/b'], ['/a/./b', '/a/b'], ['/a/b/../c', '/a/c'], ['/a/%20b', '/a/ b'],
    ['/a/b/', '/a/b/'], ['/a/..', '/'], ['/..', null], ['/%zz', null], ['http://h:1/x/y', '/x/y'], ['x', null],
    ['/a/%2e%2e/b', '/b'],
  ];
  for (const [raw, want] of cases) it(`${raw} -> ${want}`, () => expect(normalizePath(raw)).toBe(want));
  it('splits the query raw', () => expect(parseTarget('/p%41th?a=%20&b')).toEqual({ uri: '/pAth', args: 'a=%20&b' }));
});

describe('args', () => {
  it('decodes repeated keys, flags, + and %', () => {
    // `=e` has no key: dropped, as lua-nginx-module drops it (compat-request-fuzz)
    expect(decodeArgs('a=1&a=2&f&b=x+y%21&=e')).toEqual({ a: ['1', '2'], f: true, b: 'x y!' });
  });
  it('stops at max', () => expect(Object.keys(decodeArgs('a=1&b=2&c=3', 2))).toEqual(['a', 'b']));
  it('encodes arrays and flags', () => expect(encodeArgs({ a: [1, 'x y'], f: true, n: null })).toBe('a=1&a=x%20y&f'));
  it('$arg_NAME is the raw first value, case-insensitive', () => {
    expect(argValue('A=%20&a=2&bb', 'a')).toBe('%20');
    expect(argValue('x=1&bb', 'bb')).toBeUndefined(); // nginx looks for `bb=` only
    expect(argValue('x=1&bb=', 'bb')).toBe('');
    expect(argValue('x=1', 'y')).toBeUndefined();
  });
});

describe('response headers', () => {
  it('are case-insensitive, keep the first spelling, take arrays, clear on null', () => {
    const h = new HeaderStore();
    h.set('X-Foo', 'a');
    h.set('x-foo', 'b');
    h.set('Set-Cookie', ['c=1', 'd=2']);
    h.add('set-cookie', 'e=3');
    h.set('Gone', 'x');
    h.set('gone', null);
    const list: Array<readonly [string, string]> = [];
    h.appendTo(list);
    expect(list).toEqual([['X-Foo', 'b'], ['Set-Cookie', 'c=1'], ['Set-Cookie', 'd=2'], ['Set-Cookie', 'e=3']]);
    expect(headerName('content_type')).toBe('content-type');
  });
});

describe('time formats', () => {
  it('http_time and cookie_time', () => {
    expect(httpTime(1290079655)).toBe('Thu, 18 Nov 2010 11:27:35 GMT');
    expect(cookieTime(1290079655)).toBe('Thu, 18-Nov-10 11:27:35 GMT');
    expect(cookieTime(2240524800)).toBe('Mon, 31-Dec-2040 00:00:00 GMT');
  });
});

describe('ngx.re', async () => {
  const { RE } = await import('../src/api/re.js');
  it('match: captures, named groups, options, ctx.pos', () => {
    const m = RE.match('hello 1234 world', '(?<num>\\d+)')!;
    expect([m[0], m[1], m.num]).toEqual(['1234', '1234', '1234']);
    expect(RE.match('HELLO', 'hello', 'i')![0]).toBe('HELLO');
    expect(RE.match('abc', 'x')).toBeNull();
    const ctx = { pos: 1 };
    expect(RE.match('a1b2', '\\d', '', ctx)![0]).toBe('1');
    expect(RE.match('a1b2', '\\d', '', ctx)![0]).toBe('2');
    expect(RE.match('a b', 'a  \\s  b # spaced', 'x')![0]).toBe('a b');
  });
  it('find: 1-based inclusive positions', () => {
    expect(RE.find('hello 1234', '\\d+')).toEqual([7, 10]);
    expect(RE.find('hello', '\\d')).toBeNull();
  });
  it('find: the nth capture, and ctx.pos moving past each match', () => {
    const ctx = { pos: 1 };
    expect(RE.find('a12b345', '(\\d)(\\d+)', '', ctx, 2)).toEqual([3, 3]);
    expect(ctx.pos).toBe(4);
    expect(RE.find('a12b345', '(\\d)(\\d+)', '', ctx, 2)).toEqual([6, 7]);
    expect(ctx.pos).toBe(8);
    expect(RE.find('a12b345', '(\\d)(\\d+)', '', ctx, 2)).toBeNull();
    expect(ctx.pos).toBe(8);
  });
  it('gmatch iterates every match', () => {
    expect([...RE.gmatch('a1b22c333', '\\d+')].map((m) => m[0])).toEqual(['1', '22', '333']);
  });
  it('sub and gsub with templates and functions', () => {
    expect(RE.sub('hello world', '(o)', '[$1]')).toEqual(['hell[o] world', 1]);
    expect(RE.gsub('hello world', 'o', '0')).toEqual(['hell0 w0rld', 2]);
    expect(RE.gsub('a1b2', '(?<d>\\d)', '<${d}$$>')).toEqual(['a<1$>b<2$>', 2]);
    expect(RE.gsub('a1b2', '\\d', (m) => String(Number(m[0]) * 2))).toEqual(['a2b4', 2]);
  });
  it('a pattern holding the translation\'s marker chars (U+E000-U+E002) matches them as text', () => {
    expect(RE.find('a\uE000b', '\uE000')).toEqual([2, 2]);
    expect(RE.find('x\uE001', '[\uE001]')).toEqual([2, 2]);
    expect(RE.find('x\uE002y', '\\Q\uE002\\E(y)', '', undefined, 1)).toEqual([3, 3]);
  });
  it('a bad regex is an error with a code', () => {
    // OpenResty's err string (observed: pcre_compile() failed: missing ) in "(").
    expect(() => RE.match('x', '(')).toThrow(expect.objectContaining({ code: 'TRESTY_ERR_API_ARGS', message: 'pcre_compile() failed: missing ) in "("' }));
  });
});
