#!/usr/bin/env node
// The bare node:http peer: node:cluster with one worker per core (as `worker_processes auto`),
// answering the same tests as tresty and nginx+lua with the least code Node allows. Settings
// from the environment, as undici's benchmark server: PORT (required), WORKERS (default: cores).
// Prints "ready" once every worker listens.
import cluster from 'node:cluster';
import http from 'node:http';
import os from 'node:os';

const port = Number(process.env.PORT);
const workers = Number(process.env.WORKERS ?? os.availableParallelism());

if (cluster.isPrimary) {
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === workers) console.log(`ready: ${workers} workers on 127.0.0.1:${port}`);
  });
  cluster.on('exit', (w, code, sig) => {
    if (!stopping) console.error(`worker ${w.process.pid} died (${code ?? sig})`);
  });
  let stopping = false;
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  // The chain: three steps sharing a per-request object, what rewrite -> access -> content with
  // ngx.ctx does (the seeds' example: 76, +3, print 79).
  const rewrite = (ctx) => { ctx.foo = 76; };
  const access = (ctx) => { ctx.foo += 3; };
  const content = (ctx, res) => text(res, `${ctx.foo}\n`);
  // Content-Length, not chunked: the leanest answer node:http gives, and the shape tresty sends.
  const text = (res, body) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  http.createServer((req, res) => {
    if (req.url === '/hello') return text(res, 'hello world\n');
    if (req.url === '/chain') {
      const ctx = {};
      rewrite(ctx);
      access(ctx);
      return content(ctx, res);
    }
    res.writeHead(404);
    res.end();
  }).listen(port, '127.0.0.1');
  process.on('SIGTERM', () => process.exit(0));
}
