#!/usr/bin/env node
// Idle keep-alive connections against the engines (issue 9 and issue 11, defect 1):
//  1. the quick start's conf (conf/nginx.conf, worker_processes auto), then the same with nginx's
//     default worker_connections 512: 1,000 idle keep-alive connections are held open, then 200
//     new clients each make one request on a new connection; how many are served?
//  2. one worker holding 10,000 idle keep-alive connections: how much its memory grew.
// For the native engine and node:http. node bench/idle-conns.mjs
import { readFileSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, waitForHttp } from './lib/net.mjs';
import { spawnTracked, tempDir } from './lib/procs.mjs';
import { ROOT } from './lib/tresty-dist.mjs';

const BIN = path.join(ROOT, 'bin', 'tresty.js');

async function startWith(confText, engine) {
  const dir = tempDir('idle');
  mkdirSync(path.join(dir, 'logs'));
  copyFileSync(path.join(ROOT, 'conf', 'mime.types'), path.join(dir, 'mime.types'));
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  let text = confText.replace('listen 8080;', `listen 127.0.0.1:${port};`)
    .replace('pid logs/tresty.pid;', `pid ${dir}/tresty.pid;`)
    .replace('error_log logs/error.log info;', `error_log ${dir}/error.log warn;`)
    .replace('error_log stderr notice;', '')
    .replace('access_log logs/access.log;', 'access_log off;');
  if (engine === 'node') text = text.replace('http {', 'http {\n    http_engine node;');
  writeFileSync(conf, text);
  const proc = spawnTracked(process.execPath, [BIN, '-p', ROOT, '-c', conf]);
  await waitForHttp(`http://127.0.0.1:${port}/`, { proc });
  return { port, dir, proc };
}

/** A connection that made one request and now idles (keep-alive). */
function idle(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.once('data', () => resolve(s));
    s.once('error', () => resolve(null));
    s.once('close', () => resolve(null));
  });
}

/** One request on a new connection: true when answered 200. */
function fresh(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    let got = '';
    s.on('data', (d) => { got += d; });
    s.on('error', () => {});
    s.on('close', () => resolve(got.startsWith('HTTP/1.1 200')));
    setTimeout(() => { s.destroy(); resolve(false); }, 5000);
  });
}

async function lockout(label, confText, engine) {
  const srv = await startWith(confText, engine);
  const held = [];
  for (let i = 0; i < 1000; i += 100) held.push(...await Promise.all(Array.from({ length: 100 }, () => idle(srv.port))));
  const open = held.filter((s) => s && !s.destroyed).length;
  let served = 0;
  for (let i = 0; i < 200; i++) if (await fresh(srv.port)) served++;
  const stillOpen = held.filter((s) => s && !s.destroyed).length;
  for (const s of held) s?.destroy();
  const log = readFileSync(path.join(srv.dir, 'error.log'), 'utf8');
  await srv.proc.stop();
  return {
    label, engine, held: open, served, stillOpen,
    log: /reusing connections/.test(log) ? '[warn] ... reusing connections' : /worker_connections are not enough/.test(log) ? '[alert] ... not enough' : '',
  };
}

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function tenThousand(engine) {
  const dir = tempDir('idle10k');
  mkdirSync(path.join(dir, 'logs'));
  const port = await freePort();
  writeFileSync(path.join(dir, 'nginx.conf'), `worker_processes 1;\nerror_log ${dir}/error.log warn;\npid ${dir}/t.pid;\nevents { worker_connections 11000; }\n`
    + `http { ${engine === 'node' ? 'http_engine node;' : ''} access_log off; server { listen 127.0.0.1:${port}; location / { return 200 "ok"; } } }\n`);
  const proc = spawnTracked(process.execPath, [BIN, '-p', dir, '-c', path.join(dir, 'nginx.conf')]);
  await waitForHttp(`http://127.0.0.1:${port}/`, { proc });
  const master = Number(readFileSync(path.join(dir, 't.pid'), 'utf8'));
  const worker = Number(readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/)[0]);
  for (let i = 0; i < 200; i++) await fresh(port);
  const before = rssKb(worker);
  const held = [];
  for (let i = 0; i < 10_000; i += 500) held.push(...await Promise.all(Array.from({ length: 500 }, () => idle(port))));
  const after = rssKb(worker);
  const open = held.filter((s) => s && !s.destroyed).length;
  for (const s of held) s?.destroy();
  await proc.stop();
  return { engine, open, grownMb: (after - before) / 1024, perConnB: ((after - before) * 1024) / open };
}

const confText = readFileSync(path.join(ROOT, 'conf', 'nginx.conf'), 'utf8');
const conf512 = confText.replace('worker_connections 1024;', 'worker_connections 512;');
console.log(`${new Date().toISOString()}: 1,000 idle keep-alive connections held, then 200 new clients (one request each)`);
console.log('| conf | engine | idle held | new clients served | idle still open | error log |');
console.log('| --- | --- | ---: | ---: | ---: | --- |');
for (const [label, text] of [['conf/nginx.conf (worker_connections 1024, 2 workers)', confText], ['the same with worker_connections 512', conf512]]) {
  for (const engine of ['native', 'node']) {
    const r = await lockout(label, text, engine);
    console.log(`| ${r.label} | ${r.engine} | ${r.held} | ${r.served} / 200 | ${r.stillOpen} | ${r.log} |`);
  }
}
console.log('\n10,000 idle keep-alive connections on one worker: growth of its resident memory');
console.log('| engine | connections open | RSS growth | per connection |');
console.log('| --- | ---: | ---: | ---: |');
for (const engine of ['native', 'node']) {
  const r = await tenThousand(engine);
  console.log(`| ${r.engine} | ${r.open} | ${r.grownMb.toFixed(1)} MB | ${Math.round(r.perConnB)} B |`);
}
process.exit(0);
