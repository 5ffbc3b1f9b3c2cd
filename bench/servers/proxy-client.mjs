// The upstream client alone, for bench/proxy.mjs: `node proxy-client.mjs MODE URL SECONDS LANES`
// runs LANES closed loops of keep-alive GETs against URL for SECONDS and prints one JSON line
// { requests, seconds, bytes }. MODE `tresty` uses tresty's client (src/proxy/conn.ts: node:net
// with its own response parser), `agent` node:http's request() with a keep-alive Agent.
import http from 'node:http';
import { importDist } from '../lib/tresty-dist.mjs';

const [mode, url, secondsText, lanesText] = process.argv.slice(2);
const seconds = Number(secondsText);
const lanes = Number(lanesText);
const u = new URL(url);
const until = Date.now() + seconds * 1000;
let requests = 0;
let bytes = 0;

async function trestyLane(connect) {
  const head = `GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`;
  const target = { key: u.host, host: u.hostname, port: Number(u.port), tls: null };
  const conn = await connect(target, 5000, 8192);
  while (Date.now() < until) {
    await new Promise((resolve, reject) => {
      conn.begin({
        onHead() {},
        onBody(c) { bytes += c.length; },
        onEnd: resolve,
        onFail: (_k, m) => reject(new Error(m)),
      }, false, 60_000, 60_000);
      conn.write(head);
      conn.sent();
    });
    requests++;
  }
  conn.socket.destroy();
}

async function agentLane(agent) {
  while (Date.now() < until) {
    await new Promise((resolve, reject) => {
      http.get({ host: u.hostname, port: u.port, path: u.pathname, agent }, (res) => {
        res.on('data', (c) => { bytes += c.length; });
        res.on('end', resolve);
      }).on('error', reject);
    });
    requests++;
  }
}

const t0 = Date.now();
if (mode === 'tresty') {
  const { connect } = await importDist('src/proxy/conn.js');
  await Promise.all(Array.from({ length: lanes }, () => trestyLane(connect)));
} else {
  const agent = new http.Agent({ keepAlive: true, maxSockets: lanes });
  await Promise.all(Array.from({ length: lanes }, () => agentLane(agent)));
  agent.destroy();
}
console.log(JSON.stringify({ requests, seconds: (Date.now() - t0) / 1000, bytes }));
