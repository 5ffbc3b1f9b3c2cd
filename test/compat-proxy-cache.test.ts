// proxy_cache against a counting upstream (helpers/cache-upstream.ts): tresty on both engines and
// nginx 1.22 run the same conf and must answer the same, $upstream_cache_status included
// (observed on nginx first). Each server gets its own path prefix, so the counts do not mix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CacheUpstream, startCacheUpstream } from './helpers/cache-upstream.js';
import { ENGINES, titled } from './helpers/engines.js';
import { type Nginx, nginxMissing, startNginx } from './helpers/nginx.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

let up: CacheUpstream;

const loc = (path: string, extra: string): string => `
    location ${path} {
      proxy_pass http://127.0.0.1:${up.port};
      proxy_cache c;
      add_header X-Cache $upstream_cache_status always;
      ${extra}
    }`;

const locations = (): string => [
  loc('/', 'proxy_cache_valid 200 10s; proxy_cache_bypass $arg_bypass; proxy_no_cache $arg_nostore;'),
  loc('/short/', 'proxy_cache_valid 200 1s;'),
  loc('/codes/', 'proxy_cache_valid 200 10s; proxy_cache_valid 404 10s;'),
  loc('/lock/', 'proxy_cache_valid 200 10s; proxy_cache_lock on;'),
  loc('/lockx/', 'proxy_cache_valid 200 1s; proxy_cache_lock on;'),
  loc('/upd/', 'proxy_cache_valid 200 1s; proxy_cache_use_stale updating;'),
  loc('/stale/', 'proxy_cache_valid 200 1s; proxy_cache_use_stale error timeout http_500;'),
  loc('/reval/', 'proxy_cache_valid 200 1s; proxy_cache_revalidate on;'),
  loc('/min/', 'proxy_cache_valid 200 10s; proxy_cache_min_uses 2;'),
  loc('/key/', 'proxy_cache_valid 200 10s; proxy_cache_key $uri;'),
  loc('/nb/', 'proxy_cache_valid 200 10s; proxy_buffering off;'),
  loc('/bph/', 'proxy_cache_valid 200 10s; proxy_cache_bypass $http_x_bypass;'),
].join('\n');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until an entry stored with proxy_cache_valid 1s by an answer that came before now has
 * expired everywhere. nginx counts whole seconds (valid_sec = the second it stored + 1, expired
 * once ngx_time() passes it), so that is the start of the second after next, plus 100 ms: 1.1 to
 * 2.1 s, where a fixed 2.1 s sleep always took the longest. tresty's ms deadline is passed by then.
 */
const expiredOneSecond = (): Promise<void> => sleep((Math.floor(Date.now() / 1000) + 2) * 1000 + 100 - Date.now());

interface Got { status: number; cache: string; count: string; body: string; headers: Record<string, unknown> }

function suite(port: () => number, tag: string): void {
  const get = async (p: string, headers?: Record<string, string>): Promise<Got> => {
    const r = await httpGet(port(), p, { headers });
    return { status: r.status, cache: String(r.headers['x-cache'] ?? ''), count: String(r.headers['x-count'] ?? ''), body: r.body, headers: r.headers };
  };
  const seq = async (p: string, n = 2): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) { const g = await get(p); out.push(`${g.status} ${g.cache} ${g.count}`); }
    return out;
  };

  it('MISS then HIT: the same status, headers and body, the upstream asked once', async () => {
    const p = `/${tag}/a?x=1`;
    const a = await get(p);
    const b = await get(p);
    expect([a.cache, b.cache]).toEqual(['MISS', 'HIT']);
    expect(b.body).toBe(a.body);
    const same = (h: Record<string, unknown>): Record<string, unknown> => ({ ...h, date: undefined, 'x-cache': undefined });
    expect(same(b.headers)).toEqual(same(a.headers));
    expect(up.count(`/${tag}/a`)).toBe(1);
    // The query is part of the default key ($scheme$proxy_host$request_uri).
    expect((await get(`/${tag}/a?x=2`)).cache).toBe('MISS');
  });

  it('answers the upstream forbids are not stored: Set-Cookie, no-store, private, no-cache, max-age=0, X-Accel-Expires 0, Vary *, an Expires past', async () => {
    const qs = ['h-Set-Cookie=a%3Db', 'h-Cache-Control=no-store', 'h-Cache-Control=private', 'h-Cache-Control=no-cache',
      'h-Cache-Control=max-age%3D0', 'h-X-Accel-Expires=0', 'h-Vary=*', 'h-Expires=Thu,%2001%20Jan%201970%2000:00:01%20GMT'];
    for (const [i, q] of qs.entries()) expect(await seq(`/${tag}/no${i}?${q}`), q).toEqual(['200 MISS 1', '200 MISS 2']);
  });

  it('a status without a proxy_cache_valid line is not stored; one with is', async () => {
    expect(await seq(`/${tag}/s404?status=404`)).toEqual(['404 MISS 1', '404 MISS 2']);
    expect(await seq(`/codes/${tag}/s404?status=404`)).toEqual(['404 MISS 1', '404 HIT 1']);
  });

  it('Cache-Control max-age and X-Accel-Expires outlast proxy_cache_valid 1s', async () => {
    await get(`/short/${tag}/ma?h-Cache-Control=max-age%3D60`);
    await get(`/short/${tag}/xa?h-X-Accel-Expires=60`);
    await get(`/short/${tag}/plain`);
    await expiredOneSecond();
    expect((await get(`/short/${tag}/ma?h-Cache-Control=max-age%3D60`)).cache).toBe('HIT');
    expect((await get(`/short/${tag}/xa?h-X-Accel-Expires=60`)).cache).toBe('HIT');
    // proxy_cache_valid 200 1s alone: expired, asked again, then fresh.
    expect(await seq(`/short/${tag}/plain`)).toEqual(['200 EXPIRED 2', '200 HIT 2']);
  });

  it('proxy_cache_bypass goes upstream and stores; proxy_no_cache goes and does not', async () => {
    const p = `/${tag}/bp`;
    expect(await seq(p, 1)).toEqual(['200 MISS 1']);
    expect(await seq(`${p}?bypass=1`, 1)).toEqual(['200 BYPASS 2']);
    // The bypass's answer is stored under its own key (the query is in it) ...
    expect(await seq(`${p}?bypass=1`, 1)).toEqual(['200 BYPASS 3']);
    // ... and a value of "0" is no bypass.
    expect(await seq(`${p}?bypass=0`, 2)).toEqual(['200 MISS 4', '200 HIT 4']);
    expect(await seq(`/${tag}/ns?nostore=1`, 2)).toEqual(['200 MISS 1', '200 MISS 2']);
  });

  it('proxy_cache_bypass under the same key: the new answer replaces the entry the next HIT serves', async () => {
    const p = `/bph/${tag}/b`;
    expect(await seq(p, 2)).toEqual(['200 MISS 1', '200 HIT 1']);
    const b = await get(p, { 'X-Bypass': '1' });
    expect([b.cache, b.count]).toEqual(['BYPASS', '2']);
    // At once, though the worker keeps the entry it served in memory.
    const h = await get(p);
    expect([h.cache, h.count, h.body]).toEqual(['HIT', '2', `/bph/${tag}/b 2\n`]);
  });

  it('a HEAD goes upstream as GET: the GET after it is a HIT with the whole body', async () => {
    const h = await httpGet(port(), `/${tag}/head`, { method: 'HEAD' });
    expect([h.status, h.headers['x-cache'], h.body]).toEqual([200, 'MISS', '']);
    const g = await get(`/${tag}/head`);
    expect([g.cache, g.body]).toEqual(['HIT', `/${tag}/head 1\n`]);
  });

  it('an answer not buffered is not stored: proxy_buffering off, X-Accel-Buffering: no', async () => {
    expect(await seq(`/nb/${tag}/a`)).toEqual(['200 MISS 1', '200 MISS 2']);
    expect(await seq(`/${tag}/xab?h-X-Accel-Buffering=no`)).toEqual(['200 MISS 1', '200 MISS 2']);
  });

  it('proxy_cache_key $uri: the query makes no new entry', async () => {
    expect((await get(`/key/${tag}/k?a=1`)).cache).toBe('MISS');
    expect((await get(`/key/${tag}/k?a=2`)).cache).toBe('HIT');
  });

  it('Vary: another value of the header is another entry, kept beside the first', async () => {
    const p = `/${tag}/vary?h-Vary=Accept-Language`;
    const en = { 'Accept-Language': 'en' };
    const fr = { 'Accept-Language': 'fr' };
    expect((await get(p, en)).cache).toBe('MISS');
    expect((await get(p, en)).cache).toBe('HIT');
    expect((await get(p, fr)).cache).toBe('MISS');
    expect((await get(p, fr)).cache).toBe('HIT');
    // Both variants are kept side by side.
    const back = await get(p, en);
    expect([back.cache, back.count]).toEqual(['HIT', '1']);
    expect(up.count(`/${tag}/vary`)).toBe(2);
  });

  it('proxy_cache_min_uses 2: stored on the second request', async () => {
    expect(await seq(`/min/${tag}/m`, 3)).toEqual(['200 MISS 1', '200 MISS 2', '200 HIT 2']);
  });

  it('proxy_cache_lock: two requests at once for a missing entry, one upstream request', async () => {
    const p = `/lock/${tag}/l?delay=400`;
    const [a, b] = await Promise.all([get(p), get(p)]);
    expect([a.cache, b.cache].sort()).toEqual(['HIT', 'MISS']);
    expect(up.count(`/lock/${tag}/l`)).toBe(1);
    expect(b.body).toBe(a.body);
  });

  it('proxy_cache_lock does not hold requests for an expired entry: both go upstream (EXPIRED)', async () => {
    const p = `/lockx/${tag}/l?delay=300`;
    await get(p);
    await expiredOneSecond();
    const [a, b] = await Promise.all([get(p), get(p)]);
    expect([a.cache, b.cache]).toEqual(['EXPIRED', 'EXPIRED']);
    expect(up.count(`/lockx/${tag}/l`)).toBe(3);
  });

  it('proxy_cache_use_stale updating: while one request refreshes an expired entry, another gets it (UPDATING)', async () => {
    const p = `/upd/${tag}/u?delay=400`;
    await get(p);
    await expiredOneSecond();
    const first = get(p);
    await sleep(100);
    const b = await get(p);
    const a = await first;
    expect([a.cache, a.count, b.cache, b.count]).toEqual(['EXPIRED', '2', 'UPDATING', '1']);
    expect((await get(p)).cache).toBe('HIT');
  });

  it('proxy_cache_use_stale: a dropped connection or a 500 gets the expired entry (STALE)', async () => {
    const path = `/stale/${tag}/s`;
    expect((await get(path)).cache).toBe('MISS');
    await expiredOneSecond();
    up.mode.set(path, 'close');
    const a = await get(path);
    up.mode.set(path, 500);
    const b = await get(path);
    up.mode.delete(path);
    expect([a.status, a.cache, a.count, b.status, b.cache, b.count]).toEqual([200, 'STALE', '1', 200, 'STALE', '1']);
    // The upstream answers again: EXPIRED, a new entry.
    expect(await seq(path, 1)).toEqual(['200 EXPIRED 4']);
  });

  it('proxy_cache_revalidate: an expired entry with an ETag is asked with If-None-Match; a 304 makes it REVALIDATED', async () => {
    const p = `/reval/${tag}/r?etag=1`;
    expect((await get(p)).cache).toBe('MISS');
    await expiredOneSecond();
    const r = await get(p);
    expect([r.status, r.cache, r.count]).toEqual([200, 'REVALIDATED', '1']);
    expect(r.body).toBe(`/reval/${tag}/r 1\n`);
    expect((await get(p)).cache).toBe('HIT');
    expect(up.count(`/reval/${tag}/r`)).toBe(2);
  });

  it("the client's If-None-Match is not sent upstream; a stored answer's ETag gives the client a 304", async () => {
    const p = `/${tag}/inm?etag=1`;
    const r = await get(p, { 'If-None-Match': '"v1"' });
    expect([r.status, r.cache]).toEqual([304, 'MISS']);
    const full = await get(p);
    expect([full.status, full.cache, full.body]).toEqual([200, 'HIT', `/${tag}/inm 1\n`]);
  });
}

beforeAll(async () => { up = await startCacheUpstream(); });
afterAll(async () => { await up.close(); });

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'proxy_cache'), () => {
    let t: TrestyProcess;
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;\nerror_log logs/error.log info;\nevents {}\nhttp {\n  proxy_cache_path cache levels=1:2 keys_zone=c:1m;\n  server {\n    listen 127.0.0.1:${port};\n${locations()}\n  }\n}\n`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    suite(() => port, e.name === 'native' ? 'n' : 'j');
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`proxy_cache: the same on nginx${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(locations(), 'proxy_cache_path __PREFIX__/cache levels=1:2 keys_zone=c:1m;'); });
  afterAll(async () => { await n?.stop(); });
  suite(() => n.port, 'x');
});
