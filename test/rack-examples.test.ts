// conf/examples/rack.conf as shipped, in a temporary prefix with no tresty installed: handler files
// import 'tresty/rack' by name and get the tresty that runs them (docs/rack.md, "Importing").
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, ROOT, startTresty, type TrestyProcess } from './helpers/server.js';

const EXAMPLES = path.join(ROOT, 'conf', 'examples');

function exampleFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of fs.readdirSync(path.join(EXAMPLES, 'rack'))) {
    files[`conf/examples/rack/${f}`] = fs.readFileSync(path.join(EXAMPLES, 'rack', f), 'utf8');
  }
  return files;
}

describe('conf/examples/rack.conf', () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    const conf = fs.readFileSync(path.join(EXAMPLES, 'rack.conf'), 'utf8')
      .replace('listen 8080;', `listen 127.0.0.1:${port};`)
      .replace('worker_processes auto;', 'worker_processes 1;');
    t = await startTresty(conf, { files: exampleFiles() });
  });
  afterAll(async () => { await t?.stop(); });

  it('/hello: the seed example', async () => {
    const res = await httpGet(port, '/hello');
    expect(res.status).toBe(200);
    expect(res.body).toBe('secret is 1234\n');
  });

  it('/ticker: a .ts handler streams upper-cased ticks through the body filter', async () => {
    const res = await httpGet(port, '/ticker?n=3');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.body).toBe('> TICK 1 OF 3\n> TICK 2 OF 3\n> TICK 3 OF 3\n');
  });

  it('/count: a chunked upload counted and hashed as it arrives', async () => {
    const piece = Buffer.alloc(100_000, 'y');
    const res = await new Promise<{ headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/count', method: 'POST', agent: false }, (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => { body += d; });
        r.on('end', () => resolve({ headers: r.headers, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < 30; i++) req.write(piece); // no Content-Length: chunked
      req.end();
    });
    const hash = createHash('sha256');
    for (let i = 0; i < 30; i++) hash.update(piece);
    expect(res.headers['x-bytes']).toBe('3000000');
    expect(res.body).toBe(`sha256 ${hash.digest('hex')}\n`);
  });
});
