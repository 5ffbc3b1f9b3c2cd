// proxy_cache as a whole server lives with it: entries shared by two workers (a HIT in one for
// what the other stored, one upstream request for concurrent misses across workers), kept over a
// restart, swept by `inactive` and max_size, a file removed under them, an unwritable folder served uncached, a big entry
// streamed back whole, and conf errors naming file:line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CacheUpstream, startCacheUpstream } from './helpers/cache-upstream.js';
import { freePort, httpGet, makePrefix, runTresty, startTresty, type TrestyProcess } from './helpers/server.js';

let up: CacheUpstream;
let dir: string;

const conf = (port: number, http: string, extra = ''): string => `worker_processes 2;
error_log logs/error.log info;
events {}
http {
  ${http}
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${up.port};
      proxy_cache c;
      proxy_cache_valid 200 1m;
      add_header X-Cache $upstream_cache_status always;
      add_header X-Pid $pid always;
      ${extra}
    }
  }
}
`;

function files(d: string): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(p, e.name));
      else out.push(path.join(p, e.name));
    }
  };
  if (fs.existsSync(d)) walk(d);
  return out;
}

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pred();
}

beforeAll(async () => {
  up = await startCacheUpstream();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-cache-'));
});
afterAll(async () => {
  await up.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('proxy_cache with two workers', () => {
  let t: TrestyProcess;
  let port = 0;
  const cache = (): string => path.join(dir, 'shared');
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(conf(port, `proxy_cache_path ${cache()} levels=1:2 keys_zone=c:1m;`, 'proxy_cache_lock on;'));
  });
  afterAll(async () => { await t?.stop(); });

  it('a HIT in one worker for what the other stored', async () => {
    const first = await httpGet(port, '/w/a');
    expect(first.headers['x-cache']).toBe('MISS');
    const pids = new Set([first.headers['x-pid']]);
    let other: Awaited<ReturnType<typeof httpGet>> | null = null;
    // New connections spread over the workers; look for one the other worker serves.
    for (let i = 0; i < 200 && other === null; i++) {
      const r = await httpGet(port, '/w/a');
      if (r.headers['x-pid'] !== first.headers['x-pid']) other = r;
      pids.add(r.headers['x-pid']);
      expect(r.headers['x-cache']).toBe('HIT');
    }
    expect(other, `served only by ${[...pids].join(', ')}`).not.toBeNull();
    expect(other!.body).toBe(first.body);
    expect(up.count('/w/a')).toBe(1);
    // The entry is a file: md5 of the key under levels=1:2 (the hash's last digit, then two more).
    const [f] = files(cache());
    expect(path.relative(cache(), f!)).toMatch(/^([0-9a-f])\/([0-9a-f]{2})\/[0-9a-f]{29}\2\1$/);
  });

  it('proxy_cache_lock across workers: eight misses at once, one upstream request', async () => {
    const rs = await Promise.all(Array.from({ length: 8 }, () => httpGet(port, '/w/lock?delay=500')));
    expect(rs.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(up.count('/w/lock')).toBe(1);
    expect(rs.filter((r) => r.headers['x-cache'] === 'MISS')).toHaveLength(1);
    expect(files(cache()).filter((f) => f.endsWith('.lock') || f.endsWith('.tmp'))).toEqual([]);
  });

  it('an entry past the first read (200 KB) comes back whole on a HIT', async () => {
    const a = await httpGet(port, '/w/big?len=200000');
    const b = await httpGet(port, '/w/big?len=200000');
    expect([a.headers['x-cache'], b.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    expect(b.body.length).toBe(200000);
    expect(b.body).toBe(a.body);
    expect(b.headers['content-length']).toBe('200000');
  });

  it('an entry past 1 MB streams its rest from the file on a HIT', async () => {
    const a = await httpGet(port, '/w/huge?len=1500000');
    const b = await httpGet(port, '/w/huge?len=1500000');
    expect([a.headers['x-cache'], b.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    expect(b.body.length).toBe(1500000);
    expect(b.body).toBe(a.body);
  });

  it('an entry file removed under the workers: a MISS once the worker looks again (at most 1 s)', async () => {
    // nginx opens the file on each HIT, so its next request is a MISS; a worker serves a fresh
    // entry it keeps in memory for up to 1 s before it looks at the file again.
    await httpGet(port, '/w/rm');
    expect((await httpGet(port, '/w/rm')).headers['x-cache']).toBe('HIT');
    const before = up.count('/w/rm');
    for (const f of files(cache())) if (!f.endsWith('.lock')) fs.rmSync(f, { force: true });
    await new Promise((r) => setTimeout(r, 1100));
    const r = await httpGet(port, '/w/rm');
    expect([r.headers['x-cache'], up.count('/w/rm')]).toEqual(['MISS', before + 1]);
  });

  it('a HEAD is answered from the entry without a body', async () => {
    await httpGet(port, '/w/head');
    const h = await httpGet(port, '/w/head', { method: 'HEAD' });
    expect([h.status, h.headers['x-cache'], h.body]).toEqual([200, 'HIT', '']);
  });
});

describe('proxy_cache entries outlive the server', () => {
  it('a restart keeps the cache: the new server HITs what the old one stored', async () => {
    const cache = path.join(dir, 'restart');
    const port = await freePort();
    const c = conf(port, `proxy_cache_path ${cache} keys_zone=c:1m;`);
    const t1 = await startTresty(c);
    expect((await httpGet(port, '/r/a')).headers['x-cache']).toBe('MISS');
    await t1.stop();
    const t2 = await startTresty(c);
    try {
      const r = await httpGet(port, '/r/a');
      expect([r.headers['x-cache'], r.headers['x-count']]).toEqual(['HIT', '1']);
    } finally {
      await t2.stop();
    }
  });
});

describe('the sweeper', () => {
  it('inactive=1s: an entry nobody reads goes, and the next request is a MISS', async () => {
    const cache = path.join(dir, 'inactive');
    const port = await freePort();
    const t = await startTresty(conf(port, `proxy_cache_path ${cache} keys_zone=c:1m inactive=1s;`));
    try {
      expect((await httpGet(port, '/i/a')).headers['x-cache']).toBe('MISS');
      expect(files(cache)).toHaveLength(1);
      expect(await until(() => files(cache).length === 0, 8000)).toBe(true);
      expect((await httpGet(port, '/i/a')).headers['x-cache']).toBe('MISS');
      expect(up.count('/i/a')).toBe(2);
    } finally {
      await t.stop();
    }
  });

  it('max_size: the least recently read entries go until the folder fits', async () => {
    const cache = path.join(dir, 'max');
    const port = await freePort();
    const t = await startTresty(conf(port, `proxy_cache_path ${cache} keys_zone=c:1m max_size=3k;`));
    try {
      for (const n of ['1', '2', '3', '4']) {
        await httpGet(port, `/m/${n}?len=1000`);
        await new Promise((r) => setTimeout(r, 20));
      }
      // Reading 1 makes it the newest: 2 and 3 are the ones to go.
      expect((await httpGet(port, '/m/1?len=1000')).headers['x-cache']).toBe('HIT');
      expect(await until(() => files(cache).length <= 2, 12_000)).toBe(true);
      expect((await httpGet(port, '/m/1?len=1000')).headers['x-cache']).toBe('HIT');
      expect((await httpGet(port, '/m/4?len=1000')).headers['x-cache']).toBe('HIT');
      expect((await httpGet(port, '/m/2?len=1000')).headers['x-cache']).toBe('MISS');
    } finally {
      await t.stop();
    }
  });
});

describe('an unusable cache folder', () => {
  it('is logged, and the answers go uncached', async () => {
    const port = await freePort();
    // Under a regular file: no folder can be made there.
    const t = await startTresty(conf(port, 'proxy_cache_path conf/nginx.conf/cache keys_zone=c:1m;'));
    try {
      const a = await httpGet(port, '/u/a');
      const b = await httpGet(port, '/u/a');
      expect([a.status, a.headers['x-cache'], b.status, b.headers['x-cache'], b.headers['x-count']]).toEqual([200, 'MISS', 200, 'MISS', '2']);
      const log = fs.readFileSync(path.join(t.prefix, 'logs', 'error.log'), 'utf8');
      expect(log).toMatch(/\[crit\].*open\(\) ".*conf\/nginx\.conf\/cache\/.*\.tmp" failed \(-?\d+: ENOTDIR\)/);
    } finally {
      await t.stop();
    }
  });
});

describe('conf errors name file:line', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['levels', 'proxy_cache_path cache levels=1:3 keys_zone=c:1m;', /invalid "levels" "levels=1:3" in .*nginx\.conf:5/],
    ['keys_zone missing', 'proxy_cache_path cache levels=1:2;', /"proxy_cache_path" must have "keys_zone" parameter in .*nginx\.conf:5/],
    ['keys_zone size', 'proxy_cache_path cache keys_zone=c;', /invalid keys zone size "keys_zone=c" in .*nginx\.conf:5/],
    ['a duplicate zone', 'proxy_cache_path a keys_zone=c:1m; proxy_cache_path b keys_zone=c:1m;', /duplicate zone "c" in .*nginx\.conf:5/],
    ['a path twice', 'proxy_cache_path a keys_zone=d:1m; proxy_cache_path a keys_zone=c:1m;', /the same path name ".*\/a" used in .*nginx\.conf:5 and in .*nginx\.conf:5/],
    ['an unknown zone', 'proxy_cache_path a keys_zone=other:1m;', /"proxy_cache" zone "c" is unknown in .*nginx\.conf:10/],
    ['a bad parameter', 'proxy_cache_path a keys_zone=c:1m foo=1;', /invalid parameter "foo=1" in .*nginx\.conf:5/],
  ];
  for (const [name, http, want] of cases) {
    it(name, async () => {
      const prefix = makePrefix(conf(1, http));
      try {
        const r = await runTresty(['-t', '-p', prefix, '-c', 'conf/nginx.conf']);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(want);
      } finally {
        fs.rmSync(prefix, { recursive: true, force: true });
      }
    });
  }
});
