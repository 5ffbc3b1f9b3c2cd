// events { multi_accept } as nginx means it: off (the default) takes one new connection per
// readiness of a listen socket, on takes every pending one. Observed without timing: one worker
// is held in a handler until the test has queued N connections, each with its request, in the
// listen socket's accept queue; each handler then answers with the number of the event-loop turn
// it ran in. With on, the engine takes the N at once and their requests run in one turn; with off,
// one connection per readiness, so they spread over N turns. node:http is not tested here: libuv
// accepts every pending connection at each readiness whatever the directive says, and node:http
// runs each request in a turn of its own anyway (docs/directives.md).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, httpGet, startTresty, stopAll } from './helpers/server.js';

const N = 12;

afterAll(stopAll);

/** A conf whose /hold waits for `flag` to exist and whose /turn answers its loop turn's number. */
function conf(port: number, flag: string, entered: string, multiAccept: string | null): string {
  return `worker_processes 1;
error_log logs/error.log info;
events { ${multiAccept === null ? '' : `multi_accept ${multiAccept};`} }
http {
  access_log off;
  server {
    listen 127.0.0.1:${port} backlog=128;
    location = /hold { content_by_js_block {
      const fs = process.getBuiltinModule('node:fs');
      fs.writeFileSync(${JSON.stringify(entered)}, '');
      while (!fs.existsSync(${JSON.stringify(flag)}));
      ngx.say('held');
    } }
    location = /turn { content_by_js_block {
      const g = globalThis.__turns ??= { n: 0, cur: 0 };
      if (g.cur === 0) { g.cur = ++g.n; setImmediate(() => { g.cur = 0; }); }
      ngx.say(g.cur);
    } }
  }
}
`;
}

/** N connections queued behind a held worker, each with its request; the turn each ran in. */
async function burst(multiAccept: string | null, env: Record<string, string>): Promise<number[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-ma-'));
  const flag = path.join(dir, 'go');
  const entered = path.join(dir, 'entered');
  const port = await freePort();
  const t = await startTresty(conf(port, flag, entered, multiAccept), { env });
  try {
    const held = httpGet(port, '/hold', { timeoutMs: 30_000 });
    // The worker is inside /hold (its loop blocked) once the file exists.
    for (let i = 0; !fs.existsSync(entered); i++) {
      if (i > 600) throw new Error('the worker never entered /hold');
      await new Promise((r) => setTimeout(r, 50));
    }
    // The kernel completes the handshakes and queues the requests' bytes; the worker is blocked.
    const socks = await Promise.all(Array.from({ length: N }, () => new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('GET /turn HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', () => resolve(s)));
      s.on('error', reject);
    })));
    const answers = socks.map((s) => new Promise<string>((resolve, reject) => {
      let text = '';
      s.setEncoding('latin1');
      s.on('data', (d: string) => { text += d; });
      s.on('end', () => resolve(text));
      s.on('error', reject);
    }));
    // Loopback delivery may lag behind write callbacks on a loaded machine: give it time to land.
    await new Promise((r) => setTimeout(r, 300));
    fs.writeFileSync(flag, '');
    expect((await held).body).toBe('held\n');
    const texts = await Promise.all(answers);
    return texts.map((text) => {
      // A handler's answer is chunked, as nginx frames lua-nginx-module's output.
      const m = /\r\n\r\n[0-9a-f]+\r\n(\d+)\n\r\n0\r\n\r\n$/.exec(text);
      if (!m) throw new Error(`unexpected answer: ${JSON.stringify(text)}`);
      return Number(m[1]);
    });
  } finally {
    await t.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The size of the largest group of requests that ran in one loop turn. */
function largestTurn(turns: number[]): number {
  const counts = new Map<number, number>();
  for (const x of turns) counts.set(x, (counts.get(x) ?? 0) + 1);
  return Math.max(...counts.values());
}

const native = ENGINES.find((e) => e.name === 'native')!;

describe.skipIf(native.skip !== null)(titled(native, 'multi_accept'), () => {
  it('on: the queued connections are taken at once, their requests run in one loop turn', async () => {
    // All N in practice; one request whose bytes landed late (a loaded machine) may run a turn later.
    expect(largestTurn(await burst('on', native.env))).toBeGreaterThanOrEqual(N - 2);
  }, 60_000);

  it('off (the default): one connection per readiness, the requests spread over the turns', async () => {
    // One per turn in practice; a loop turn may also run a pass the engine scheduled itself (idle
    // phase) or a timer's, besides the poll's: at most 3, far from the N of on.
    expect(largestTurn(await burst(null, native.env))).toBeLessThanOrEqual(3);
    expect(largestTurn(await burst('off', native.env))).toBeLessThanOrEqual(3);
  }, 90_000);
});
