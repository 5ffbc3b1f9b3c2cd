// 10,000 idle keep-alive connections on one worker hold with less than 40 MB for them (issue 9):
// the engine frees a connection's buffers when it goes idle, as nginx does, keeping only its
// small record. Measured as the growth of the worker's resident memory, which also counts the
// JS side of the 10,000 requests made to get there, so it is an upper bound of the engine's part.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_BUILT } from './helpers/engine.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

const N = 10_000;
const limit = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim()) || 0;
const why = !ENGINE_BUILT ? 'the native engine is not built' : limit < N + 1000 ? `ulimit -n is ${limit}, ${N + 1000} needed` : null;

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** A keep-alive connection that made one request and now sits idle. */
function idleConn(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.once('data', () => resolve(s));
    s.once('error', reject);
  });
}

describe.skipIf(why !== null)(`10,000 idle keep-alive connections${why ? ` (skipped: ${why})` : ''}`, () => {
  let t: TrestyProcess;
  let port: number;
  const conns: net.Socket[] = [];
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(`
worker_processes 1;
events { worker_connections ${N + 100}; }
http {
  access_log off;
  server { listen 127.0.0.1:${port}; location / { return 200 "ok"; } }
}
`);
  });
  afterAll(async () => {
    for (const c of conns) c.destroy();
    await t?.stop();
  });

  it('hold with less than 40 MB of the worker\'s memory, and the worker still serves', async () => {
    const worker = (t.events.find((e) => e.tresty === 'ready')!.workers as number[])[0]!;
    for (let i = 0; i < 200; i++) await httpGet(port, '/'); // warm: code compiled, pools made
    const before = rssKb(worker);
    for (let i = 0; i < N; i += 500) {
      conns.push(...await Promise.all(Array.from({ length: Math.min(500, N - i) }, () => idleConn(port))));
    }
    const after = rssKb(worker);
    const grownMb = (after - before) / 1024;
    expect(conns.filter((c) => !c.destroyed)).toHaveLength(N);
    expect(grownMb).toBeLessThan(40);
    expect((await httpGet(port, '/')).body).toBe('ok');
  }, 120_000);
});
