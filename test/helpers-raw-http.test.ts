// The tests' raw-request sender (test/helpers/raw-http.ts) on a loaded machine: a server whose
// answer comes later than the quiet time (250 ms) must not have it counted as the follow-up's.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latin1, sendRaw } from './helpers/raw-http.js';

describe('test helper: sendRaw', () => {
  let srv: net.Server;
  let port: number;
  beforeAll(async () => {
    // Answers each request line 600 ms late: 400 and a close for "BAD", 200 kept open otherwise.
    srv = net.createServer((c) => {
      let buf = '';
      c.on('error', () => {});
      c.on('data', (d) => {
        buf += d.toString('latin1');
        for (let i; (i = buf.indexOf('\r\n\r\n')) >= 0; buf = buf.slice(i + 4)) {
          const bad = buf.startsWith('BAD');
          setTimeout(() => {
            if (bad) c.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
            else c.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
          }, 600);
        }
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    port = (srv.address() as net.AddressInfo).port;
  });
  afterAll(() => { srv.close(); });

  it('waits past the quiet time for the answers it was told to expect', async () => {
    const bad = await sendRaw(port, latin1('BAD x HTTP/1.1\r\n\r\n'));
    expect(bad.statuses).toEqual([400]);
    expect(bad.closed).toBe(true);
    const two = await sendRaw(port, latin1('GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n'), { answers: 2 });
    expect(two.statuses).toEqual([200, 200]);
    expect(two.closed).toBe(false); // the follow-up was answered
  }, 30_000);
});
