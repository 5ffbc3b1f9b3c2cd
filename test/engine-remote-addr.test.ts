// $remote_addr on the native engine, whose front reuses the last client address string while the
// next request's address bytes are the same: requests alternating between two clients of the
// same address length (127.0.0.1, 127.0.0.2), on new and kept-alive connections, each get their own.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confFor } from './helpers/phases-harness.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

function get(port: number, localAddress: string, agent: http.Agent | false): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/addr', localAddress, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('$remote_addr of alternating clients', () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(confFor(port, {}, [{ name: '', requests: [], conf: 'location = /addr { content_by_js_block { ngx.say(ngx.var.remote_addr, " ", ngx.var.binary_remote_addr.length) } }' }]));
  });
  afterAll(async () => { await t?.stop(); });

  it('each request names its own client, on new and on kept-alive connections', async () => {
    const one = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const two = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        expect(await get(port, '127.0.0.1', false)).toBe('127.0.0.1 4\n');
        expect(await get(port, '127.0.0.2', false)).toBe('127.0.0.2 4\n');
        expect(await get(port, '127.0.0.1', one)).toBe('127.0.0.1 4\n');
        expect(await get(port, '127.0.0.2', two)).toBe('127.0.0.2 4\n');
        // Both clients' requests in one batch of the engine, as they come.
        const both = await Promise.all([get(port, '127.0.0.2', two), get(port, '127.0.0.1', one)]);
        expect(both).toEqual(['127.0.0.2 4\n', '127.0.0.1 4\n']);
      }
    } finally {
      one.destroy();
      two.destroy();
    }
  });
});
