// The gateway's parts taken alone: the upstream response parser (fed byte by byte, and with
// what nginx refuses), nginx's peer choices (smooth weighted round robin, max_fails, backup,
// least_conn, hash, consistent hash, ip_hash), and the proxy/upstream/ssl directives.
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NEXT } from '../src/config/types-gateway.js';
import { parseHead, ResponseParser, type ResponseHead } from '../src/proxy/parser.js';
import { choose, Peer, PeerSet, release, Ring, Selection } from '../src/proxy/peers.js';
import { confErrorOf, loadConfText } from './helpers/conf-load.js';

interface Parsed { head: ResponseHead | null; body: string; ended: boolean; rest: boolean; error: string | null }

function parse(chunks: Buffer[], opts: { headRequest?: boolean; eof?: boolean; maxHead?: number } = {}): Parsed {
  const out: Parsed = { head: null, body: '', ended: false, rest: false, error: null };
  const p = new ResponseParser({
    onHead: (h) => { out.head = h; },
    onBody: (c) => { out.body += c.toString('latin1'); },
    onEnd: (rest) => { out.ended = true; out.rest = rest; },
    onError: (m) => { out.error = m; },
  }, opts.maxHead ?? 4096);
  p.reset(opts.headRequest ?? false);
  for (const c of chunks) p.execute(c);
  if (opts.eof) p.eof();
  return out;
}

/** Every way of cutting `text` in two, plus one byte at a time. */
function splits(text: string): Buffer[][] {
  const b = Buffer.from(text, 'latin1');
  const out: Buffer[][] = [[b], [...b].map((x) => Buffer.from([x]))];
  for (let i = 1; i < b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  return out;
}

describe('upstream response parser', () => {
  const fixed = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-A: 1\r\nX-A: 2\r\n\r\nhello';
  it('parses a Content-Length answer however the reads cut it', () => {
    for (const chunks of splits(fixed)) {
      const r = parse(chunks);
      expect(r.error).toBeNull();
      expect(r.head).toMatchObject({ status: 200, reason: 'OK', contentLength: 5, chunked: false, keepAlive: true, raw: ['Content-Type', 'text/plain', 'Content-Length', '5', 'X-A', '1', 'X-A', '2'] });
      expect(r.body).toBe('hello');
      expect(r.ended).toBe(true);
    }
  });

  const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n';
  it('decodes chunked bodies (extensions, trailers) however the reads cut them', () => {
    for (const chunks of splits(chunked)) {
      const r = parse(chunks);
      expect(r.error).toBeNull();
      expect(r.body).toBe('hello world');
      expect(r.ended).toBe(true);
      expect(r.rest).toBe(false);
    }
  });

  it('skips 100 Continue, reads a close-delimited body to EOF, and knows HEAD answers have no body', () => {
    const r = parse([Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil close')], { eof: true });
    expect(r.head?.status).toBe(200);
    expect(r.head?.keepAlive).toBe(false);
    expect(r.body).toBe('until close');
    expect(r.ended).toBe(true);
    const h = parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n')], { headRequest: true });
    expect(h.ended).toBe(true);
    expect(h.body).toBe('');
    const n = parse([Buffer.from('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n')]);
    expect(n.ended).toBe(true);
  });

  it('reports bytes after the answer, and a keep-alive that the answer refuses', () => {
    expect(parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxEXTRA')]).rest).toBe(true);
    expect(parse([Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')]).head?.keepAlive).toBe(false);
    expect(parse([Buffer.from('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n')]).head?.keepAlive).toBe(true);
  });

  it('reads LF-only lines, values with colons and spaces, and a header without a colon whose next line has one', () => {
    const lf = parse([Buffer.from('HTTP/1.1 201 Made\nX-Time: 12:30:00  \nContent-Length: 2\n\nok')]);
    expect(lf.error).toBeNull();
    expect(lf.head).toMatchObject({ status: 201, reason: 'Made', raw: ['X-Time', '12:30:00', 'Content-Length', '2'] });
    expect(lf.body).toBe('ok');
    // The colon of the next line must not make "Broken" a name.
    expect(parse([Buffer.from('HTTP/1.1 200 OK\r\nBroken\r\nX: 1\r\n\r\n')]).error).toMatch(/invalid header/);
    expect(parse([Buffer.from('HTTP/1.1 200 OK\r\n: no name\r\n\r\n')]).error).toMatch(/invalid header/);
    // A status line alone (no headers) and one without a reason.
    expect(parse([Buffer.from('HTTP/1.1 204\r\n\r\n')]).head).toMatchObject({ status: 204, reason: '', raw: [] });
  });

  it('reads a status line and trims header values as the line pattern and String#trim did', () => {
    // The reference: the regular expression and trim() the hand-written checks replaced.
    // Since: a CR in a value followed by a byte other than CR / LF refuses the header, as nginx
    // 1.22.1 does (502, 'upstream sent invalid header'); CRs before the line's end it takes.
    const reference = (line: string, value: string): unknown => {
      const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(line);
      if (m && /\r[^\r]/.test(value)) return 'bad header';
      return m ? { status: Number(m[2]), reason: m[3] ?? '', minor: Number(m[1]), value: value.trim() } : 'invalid';
    };
    const parsed = (line: string, value: string): unknown => {
      const h = parseHead(`${line}\r\nX:${value}`);
      if (typeof h === 'string') return /no valid HTTP/.test(h) ? 'invalid' : /invalid header/.test(h) ? 'bad header' : h;
      return { status: h.status, reason: h.reason, minor: h.minor, value: h.raw[1] };
    };
    const piece = fc.constantFrom('HTTP/1.', 'HTTP/1.1 ', 'HTTP/1.0 ', 'HTTP/2 ', '0', '1', '2', '9', '200', ' ', '\r', '\t', '\xa0', 'OK', 'x', '\x85', '::');
    const text = fc.array(piece, { maxLength: 8 }).map((a) => a.join(''));
    fc.assert(fc.property(text, text, (line, value) => {
      if (line.includes('\n') || value.includes('\n')) return;
      expect(parsed(line, value)).toEqual(reference(line, value));
    }), { numRuns: 3000 });
    expect(parsed('HTTP/1.1 200', '')).toEqual({ status: 200, reason: '', minor: 1, value: '' });
    expect(parsed('HTTP/1.0 404 Not Found', ' \t a b \xa0')).toEqual({ status: 404, reason: 'Not Found', minor: 0, value: 'a b' });
    expect(parsed('HTTP/1.1 2000 OK', 'v')).toBe('invalid');
    expect(parsed('HTTP/1.1 200 O\rK', 'v')).toBe('invalid');
    expect(parsed('HTTP/1.1 200 OK', 'a\rb')).toBe('bad header');
    expect(parsed('HTTP/1.1 200 OK', 'a\0b')).toBe('bad header');
    expect(parsed('HTTP/1.1 200 OK', ' a \r\r')).toEqual({ status: 200, reason: 'OK', minor: 1, value: 'a' });
  });

  it.each([
    ['a bad status line', 'HTTP/2 200 OK\r\n\r\n', /no valid HTTP\/1.0 header/],
    ['a header without a colon', 'HTTP/1.1 200 OK\r\nBroken\r\n\r\n', /invalid header/],
    ['a space in a header name', 'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', /invalid header/],
    ['Content-Length with Transfer-Encoding', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', /at the same time/],
    ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', /duplicate header line/],
    ['a bad Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /invalid "Content-Length"/],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /invalid chunked/],
    ['an unknown Transfer-Encoding', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', /unknown "Transfer-Encoding"/],
  ])('refuses %s', (_what, text, re) => {
    const r = parse([Buffer.from(text)]);
    expect(r.error).toMatch(re);
    expect(r.ended).toBe(false);
  });

  it('refuses a head larger than proxy_buffer_size, and a cut answer', () => {
    expect(parse([Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(5000)}\r\n\r\n`)]).error).toMatch(/too big header/);
    expect(parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')], { eof: true }).error).toMatch(/prematurely closed/);
    expect(parse([], { eof: true }).error).toMatch(/while reading response header/);
  });
});

const peer = (name: string, o: Partial<{ weight: number; maxFails: number; failTimeout: number; backup: boolean; down: boolean; maxConns: number }> = {}): Peer =>
  new Peer(name, name, 80, o);

function picks(set: PeerSet, n: number, policy: 'round_robin' | 'least_conn' = 'round_robin', now = 1000): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = choose(new Selection(set, ''), policy, null, now)!;
    out.push(p.name);
    release(set, p, false, now);
  }
  return out;
}

describe('peer choice (nginx)', () => {
  it('smooth weighted round robin spreads a heavy peer out: a:5 b:1 c:1 → a a b a c a a', () => {
    const set = new PeerSet([peer('a', { weight: 5 }), peer('b'), peer('c')], null);
    expect(picks(set, 7)).toEqual(['a', 'a', 'b', 'a', 'c', 'a', 'a']);
  });

  it('max_fails failures within fail_timeout take a peer out for fail_timeout, then it is tried again', () => {
    const a = peer('a', { maxFails: 2, failTimeout: 10_000 });
    const set = new PeerSet([a, peer('b')], null);
    for (const now of [1000, 1001]) {
      const sel = new Selection(set, '');
      let p = choose(sel, 'round_robin', null, now)!;
      if (p !== a) { release(set, p, false, now); p = choose(sel, 'round_robin', null, now)!; }
      expect(p).toBe(a);
      release(set, a, true, now);
    }
    expect(picks(set, 4, 'round_robin', 5000)).toEqual(['b', 'b', 'b', 'b']);
    expect(picks(set, 4, 'round_robin', 12_000)).toContain('a');
  });

  it('down peers are never chosen; backup peers only once every primary is out', () => {
    const a = peer('a', { maxFails: 1 });
    const set = new PeerSet([a, peer('d', { down: true })], new PeerSet([peer('bk')], null));
    expect(picks(set, 3)).toEqual(['a', 'a', 'a']);
    release(set, choose(new Selection(set, ''), 'round_robin', null, 1000)!, true, 1000);
    expect(picks(set, 2)).toEqual(['bk', 'bk']);
  });

  it('with nothing left, answers null and clears the failures (nginx\'s quick recovery)', () => {
    const a = peer('a');
    const b = peer('b');
    const set = new PeerSet([a, b], null);
    const sel = new Selection(set, '');
    release(set, choose(sel, 'round_robin', null, 1000)!, true, 1000);
    release(set, choose(sel, 'round_robin', null, 1000)!, true, 1000);
    expect(choose(sel, 'round_robin', null, 1000)).toBeNull();
    expect(a.fails + b.fails).toBe(0);
  });

  it('least_conn picks the peer with the fewest requests in flight per weight', () => {
    const a = peer('a');
    const b = peer('b');
    const set = new PeerSet([a, b], null);
    a.conns = 3;
    expect(choose(new Selection(set, ''), 'least_conn', null, 0)).toBe(b);
    b.conns = 5;
    expect(choose(new Selection(set, ''), 'least_conn', null, 0)).toBe(a);
  });

  it('hash maps a key to the same peer every time, and moves on when that peer is out', () => {
    const set = new PeerSet([peer('a'), peer('b'), peer('c')], null);
    const first = new Map<string, string>();
    for (let i = 0; i < 50; i++) first.set(`k${i}`, choose(new Selection(set, `k${i}`), 'hash', null, 0)!.name);
    for (let i = 0; i < 50; i++) expect(choose(new Selection(set, `k${i}`), 'hash', null, 0)!.name).toBe(first.get(`k${i}`));
    expect(new Set(first.values()).size).toBe(3);
    const sel = new Selection(set, 'k1');
    const p1 = choose(sel, 'hash', null, 0)!;
    const p2 = choose(sel, 'hash', null, 0)!;
    expect(p2).not.toBe(p1);
  });

  it('consistent hash moves few keys when a peer is added', () => {
    const three = new PeerSet([peer('a'), peer('b'), peer('c')], null);
    const four = new PeerSet([peer('a'), peer('b'), peer('c'), peer('d')], null);
    const r3 = new Ring(three);
    const r4 = new Ring(four);
    let moved = 0;
    for (let i = 0; i < 1000; i++) {
      const x = choose(new Selection(three, `key-${i}`), 'hash', r3, 0)!.name;
      const y = choose(new Selection(four, `key-${i}`), 'hash', r4, 0)!.name;
      if (x !== y) moved++;
    }
    // About a quarter must move to the new peer; plain modulo hashing would move ~3/4.
    expect(moved).toBeGreaterThan(150);
    expect(moved).toBeLessThan(350);
  });

  it('ip_hash keeps a /24 on one peer', () => {
    const set = new PeerSet([peer('a'), peer('b'), peer('c')], null);
    const p = choose(new Selection(set, '10.1.2.3'), 'ip_hash', null, 0)!;
    for (const ip of ['10.1.2.4', '10.1.2.200']) expect(choose(new Selection(set, ip), 'ip_hash', null, 0)).toBe(p);
  });
});

const load = (conf: string) => loadConfText(conf, { inConf: true });
const confError = (conf: string): string => confErrorOf(conf, { inConf: true }).message;

describe('proxy, upstream and ssl directives', () => {
  it('resolves proxy_pass URLs, the defaults, and nginx\'s inheritance', () => {
    const c = load(`http {
      proxy_set_header X-A 1;
      proxy_read_timeout 5s;
      upstream pool { server 10.0.0.1:8080 weight=3 max_fails=2 fail_timeout=5s; server 10.0.0.2 backup; keepalive 16; keepalive_timeout 30s; least_conn; }
      server {
        location /a/ { proxy_pass http://pool/x/; }
        location /b/ { proxy_set_header X-B 2; proxy_next_upstream error http_502 non_idempotent; proxy_pass https://[::1]:8443; }
        location /c/ { proxy_pass http://unix:/tmp/s.sock:/u/; proxy_buffering off; }
        location /d/ { proxy_pass http://$host$request_uri; }
        location /e/ { location /e/in/ { } proxy_pass http://h; }
      }
    }`);
    const [a, b, cc, d, e] = c.http!.servers[0]!.locations;
    expect(a!.proxy.pass).toMatchObject({ scheme: 'http', host: 'pool', port: 80, proxyHost: 'pool', uri: '/x/', prefix: '/a/', dynamic: false });
    expect(a!.proxy.setHeaders).toEqual([['X-A', '1']]);
    expect(a!.proxy.readTimeout).toBe(5000);
    expect(a!.proxy).toMatchObject({ httpVersion: '1.0', connectTimeout: 60_000, buffering: true, nextUpstream: NEXT.error | NEXT.timeout, nextUpstreamTries: 0 });
    expect(b!.proxy.pass).toMatchObject({ scheme: 'https', host: '::1', port: 8443, proxyHost: '[::1]:8443', uri: null });
    expect(b!.proxy.setHeaders).toEqual([['X-B', '2']]);
    expect(b!.proxy.nextUpstream).toBe(NEXT.error | NEXT.http_502 | NEXT.non_idempotent);
    expect(cc!.proxy.pass).toMatchObject({ host: 'unix:/tmp/s.sock', uri: '/u/', proxyHost: 'localhost' });
    expect(cc!.proxy.buffering).toBe(false);
    expect(d!.proxy.pass?.dynamic).toBe(true);
    expect(e!.proxy.pass).not.toBeNull();
    expect(e!.locations[0]!.proxy.pass).toBeNull(); // proxy_pass is not inherited
    const pool = c.http!.upstreams.get('pool')!;
    expect(pool).toMatchObject({ policy: 'least_conn', keepalive: 16, keepaliveTimeout: 30_000, keepaliveRequests: 1000 });
    expect(pool.servers[0]).toMatchObject({ host: '10.0.0.1', port: 8080, weight: 3, maxFails: 2, failTimeout: 5000, backup: false });
    expect(pool.servers[1]).toMatchObject({ host: '10.0.0.2', port: 80, backup: true });
    // keepalive_timeout keeps its http meaning outside upstream blocks.
    expect(c.http!.servers[0]!.defaults.keepaliveTimeout).toBe(75_000);
  });

  it('resolves listen ssl/http2 and the ssl_* settings with nginx\'s defaults', () => {
    const c = load(`http { ssl_protocols TLSv1.3; server {
      listen 8443 ssl http2;
      ssl_certificate a.crt; ssl_certificate_key a.key;
      ssl_certificate b.crt; ssl_certificate_key b.key;
      ssl_session_cache shared:SSL:1m;
    } }`);
    const s = c.http!.servers[0]!;
    expect(s.listen[0]).toMatchObject({ port: 8443, ssl: true, http2: true });
    expect(s.ssl.certificates.map((p) => path.basename(p.certificate))).toEqual(['a.crt', 'b.crt']);
    expect(s.ssl).toMatchObject({ protocols: ['TLSv1.3'], ciphers: 'HIGH:!aNULL:!MD5', sessionCache: 4096, sessionTimeout: 300_000, sessionTickets: true });
  });

  it.each([
    ['a URI part in a regex location', 'http { server { location ~ /x {\nproxy_pass http://h/u;\n} } }', /"proxy_pass" cannot have URI part in location given by regular expression.* in .*:2$/],
    ['a bad scheme', 'http { server { location / {\nproxy_pass ftp://h;\n} } }', /invalid URL prefix in "ftp:\/\/h" in .*:2$/],
    ['an upstream with no servers', 'http {\nupstream u { }\n}', /no servers are inside upstream in .*:2$/],
    ['an unknown server parameter', 'http { upstream u {\nserver 1.2.3.4 heavy=1;\n} }', /invalid parameter "heavy=1" in .*:2$/],
    ['a bad weight', 'http { upstream u {\nserver 1.2.3.4 weight=0;\n} }', /invalid value "0" in "server" directive in .*:2$/],
    ['two balancing methods', 'http { upstream u { server 1.2.3.4; least_conn;\nip_hash;\n} }', /load balancing method redefined in .*:2$/],
    ['backup with hash', 'http { upstream u { hash $uri; server 1.1.1.1;\nserver 1.2.3.4 backup;\n} }', /does not support parameter "backup" in .*:2$/],
    ['a bad proxy_next_upstream', 'http { server {\nproxy_next_upstream error http_418;\n} }', /invalid value "http_418" in "proxy_next_upstream" directive in .*:2$/],
    ['http2 without ssl', 'http { server {\nlisten 8080 http2;\n} }', /"http2" on "ssl" listens only.* in .*:2$/],
    ['a certificate without its key', 'http { server { listen 443 ssl;\nssl_certificate a.crt;\n} }', /needs its "ssl_certificate_key".* in .*:2$/],
    ['proxy_pass outside a location', 'http { server {\nproxy_pass http://h;\n} }', /"proxy_pass" directive is not allowed here in .*:2$/],
    ['server outside an upstream without a block', 'http {\nserver 1.2.3.4;\n}', /directive "server" has no opening "\{" in .*:2$/],
  ])('refuses %s with FILE:LINE', (_what, conf, re) => {
    expect(confError(conf)).toMatch(re);
  });
});
