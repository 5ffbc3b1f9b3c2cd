// `resolver`: cosockets (TCP and UDP) and proxy_pass with variables look names up through the DNS
// servers the conf names, not the system's. A small DNS server written here answers one name
// (svc.tresty.test -> 127.0.0.1) and refuses the rest; the system resolver knows neither.
// `resolver NAME` is looked up at load through the system (localhost, from /etc/hosts), as nginx.
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConf, type MainConf } from '../src/config/index.js';
import { confErrorOf, loadConfText, serverConf } from './helpers/conf-load.js';
import { nginxConfError, nginxMissing } from './helpers/nginx.js';
import { freePort, httpGet, makePrefix, runTresty, startTresty, stopAll } from './helpers/server.js';

const NAME = 'svc.tresty.test';
let dns: dgram.Socket;
let dnsPort = 0;
let asked = 0;
let tcp: net.Server;
let tcpPort = 0;

/** One DNS answer: an A record for NAME, no data for its AAAA, NXDOMAIN for any other name. */
function answer(q: Buffer): Buffer {
  let o = 12;
  const labels: string[] = [];
  while (q[o]! > 0) { labels.push(q.toString('latin1', o + 1, o + 1 + q[o]!)); o += q[o]! + 1; }
  const qEnd = o + 5;
  const type = q.readUInt16BE(o + 1);
  const known = labels.join('.').toLowerCase() === NAME;
  const head = Buffer.alloc(12);
  q.copy(head, 0, 0, 2);
  head.writeUInt16BE(known ? 0x8180 : 0x8183, 2);
  head.writeUInt16BE(1, 4);
  const a = known && type === 1;
  head.writeUInt16BE(a ? 1 : 0, 6);
  const rr = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
  return Buffer.concat([head, q.subarray(12, qEnd), a ? rr : Buffer.alloc(0)]);
}

beforeAll(async () => {
  dns = dgram.createSocket('udp4');
  dns.on('message', (m, from) => { asked++; dns.send(answer(m), from.port, from.address); });
  await new Promise<void>((r) => dns.bind(0, '127.0.0.1', r));
  dnsPort = dns.address().port;
  tcp = net.createServer((s) => s.end('hello from svc\n'));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  tcpPort = (tcp.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await stopAll();
  dns.close();
  tcp.close();
});

/** /tcp?host=NAME: a cosocket connects to NAME on the test's TCP server and says its line. */
const tcpLocation = (): string => `location = /tcp {
      content_by_js_block {
        const s = ngx.socket.tcp();
        const [ok, err] = await s.connect(ngx.var.arg_host, ${tcpPort});
        if (!ok) { ngx.say("failed: ", err); return; }
        const [line] = await s.receive();
        ngx.say(line);
      }
    }`;

describe('resolver', () => {
  it('cosockets and proxy_pass with variables resolve through it; an unknown name is OpenResty\'s error', async () => {
    const port = await freePort();
    const t = await startTresty(`worker_processes 1; error_log logs/error.log;
http {
  access_log off;
  resolver 127.0.0.1:${dnsPort} valid=30s ipv6=off;
  resolver_timeout 5s;
  server {
    listen 127.0.0.1:${port};
    ${tcpLocation()}
    location = /udp {
      content_by_js_block {
        const u = ngx.socket.udp();
        const [ok, err] = await u.setpeername(ngx.var.arg_host, 9);
        ngx.say(ok ? "ok" : "failed: " + err);
      }
    }
    location = /back { return 200 "upstream"; }
    location = /proxy { set $h ${NAME}; proxy_pass http://$h:${port}/back; }
    location = /proxy-bad { set $h nowhere.tresty.test; proxy_pass http://$h:${port}/back; }
  }
}`);
    expect((await httpGet(port, `/tcp?host=${NAME}`)).body).toBe('hello from svc\n');
    const before = asked;
    expect((await httpGet(port, `/tcp?host=${NAME.toUpperCase()}`)).body).toBe('hello from svc\n');
    expect(asked).toBe(before); // valid=30s: the answer is kept
    expect((await httpGet(port, '/tcp?host=nowhere.tresty.test')).body).toBe('failed: nowhere.tresty.test could not be resolved (3: Host not found)\n');
    expect((await httpGet(port, `/udp?host=${NAME}`)).body).toBe('ok\n');
    expect((await httpGet(port, '/udp?host=nowhere.tresty.test')).body).toBe('failed: nowhere.tresty.test could not be resolved (3: Host not found)\n');
    expect((await httpGet(port, '/proxy')).body).toBe('upstream');
    expect((await httpGet(port, '/proxy-bad')).status).toBe(502);
    await new Promise((r) => setTimeout(r, 200));
    expect(t.errorLog()).toMatch(/\[error\] .*nowhere\.tresty\.test could not be resolved \(3: Host not found\)/);
    await t.stop();
  }, 60_000);

  it('a server that does not answer gives the timeout error after resolver_timeout', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    const port = await freePort();
    const t = await startTresty(`worker_processes 1; http { access_log off; resolver 127.0.0.1:${silent.address().port}; resolver_timeout 500ms;
  server { listen 127.0.0.1:${port}; location = /tcp { content_by_js_block {
    const s = ngx.socket.tcp(); const t0 = Date.now(); const [ok, err] = await s.connect("${NAME}", 1); ngx.say(err, " ", Date.now() - t0 < 3000) } } } }`);
    expect((await httpGet(port, '/tcp')).body).toBe(`${NAME} could not be resolved (110: Operation timed out) true\n`);
    await t.stop();
    silent.close();
  }, 60_000);

  it('bad resolver arguments are conf errors', async () => {
    for (const [conf, re] of [
      ['resolver nowhere.invalid;', /host not found in resolver "nowhere.invalid" in .*nginx\.conf:1/],
      ['resolver 127.0.0.1 ipv4=off ipv6=off;', /"ipv4" and "ipv6" cannot both be "off"/],
      ['resolver 127.0.0.1 valid=soon;', /invalid parameter: valid=soon/],
      ['resolver_timeout 0;', /"resolver_timeout" directive invalid value "0"/],
    ] as const) {
      await expect(startTresty(`http { ${conf} server { listen 127.0.0.1:${await freePort()}; } }`)).rejects.toThrow(re);
    }
  });
});

// [resolver's argument, nginx 1.22's [emerg] (null: accepted)], observed with nginx -t.
const ADDRESSES: ReadonlyArray<readonly [string, string | null]> = [
  ['localhost', null],
  ['LOCALHOST:5353', null],
  ['[::1]:53', null],
  ['127.0.0.1', null],
  ['nowhere.invalid', 'host not found'],
  ['nowhere.invalid:53', 'host not found'],
  ['300.1.1.1', 'host not found'],
  ['localhost:abc', 'invalid port'],
  ['localhost:0', 'invalid port'],
  ['localhost:65536', 'invalid port'],
  ['::1', 'invalid port'],
  ['[::1]:', 'invalid port'],
  ['[::1]:abc', 'invalid port'],
  ['[]:abc', 'invalid port'],
  [':53', 'no host'],
  ['[]:53', 'no host'],
  ['[::1', 'invalid host'],
  ['[::1]x', 'invalid host'],
  ['localhost:53/x', 'invalid host'],
  ['http://localhost', 'invalid host'],
  ['[localhost]:53', 'invalid IPv6 address'],
  ['unix:/tmp/nowhere.sock', null],
  ['unix:relative.sock', null],
  ['unix:', 'no path in the unix domain socket'],
];

const esc = (t: string): string => t.replace(/[[\]?.*+()/\\]/g, '\\$&');
const resolverOf = (c: MainConf): readonly string[] => c.http!.servers[0]!.defaults.resolver?.servers ?? [];

describe('resolver NAME: looked up once at load, each address a DNS server', () => {
  it('a cosocket resolves through the servers a name (localhost:PORT) gave, in every worker; a reload to a bad name keeps them', async () => {
    const port = await freePort();
    const conf = (resolver: string): string => `worker_processes 2; error_log logs/error.log;
http {
  access_log off;
  resolver ${resolver} ipv6=off;
  server {
    listen 127.0.0.1:${port};
    ${tcpLocation()}
  }
}`;
    const t = await startTresty(conf(`localhost:${dnsPort}`));
    const before = asked;
    for (let i = 0; i < 4; i++) expect((await httpGet(port, `/tcp?host=${NAME}`)).body).toBe('hello from svc\n');
    expect(asked).toBeGreaterThan(before); // asked our server, not the system's
    expect((await httpGet(port, '/tcp?host=nowhere.tresty.test')).body).toBe('failed: nowhere.tresty.test could not be resolved (3: Host not found)\n');
    // A reload looks the name up again, as nginx's: one that does not resolve is refused there.
    t.writeConf(conf('nowhere.invalid'));
    const failed = t.waitFor((e) => e.tresty === 'reload-failed');
    process.kill(t.pid, 'SIGHUP');
    expect((await failed).code).toBe('TRESTY_ERR_CONF_VALUE');
    expect(t.errorLog()).toMatch(/\[emerg\] .*host not found in resolver "nowhere\.invalid" in .*nginx\.conf:4/);
    expect((await httpGet(port, `/tcp?host=${NAME}`)).body).toBe('hello from svc\n');
    await t.stop();
  }, 60_000);

  it('the master records the answer in the snapshot; a worker loads with it and looks nothing up', () => {
    const p = makePrefix(serverConf('', 'resolver localhost:5353 dns.tresty.test;'));
    const file = path.join(p, 'conf', 'nginx.conf');
    try {
      expect(() => loadConf({ file, prefix: p })).toThrow(/host not found in resolver "dns.tresty.test"/);
      fs.writeFileSync(file, serverConf('', 'resolver localhost:5353 [::1];'));
      const master = loadConf({ file, prefix: p });
      expect(master.snapshot.hosts).toEqual({ localhost: ['127.0.0.1'] });
      expect(resolverOf(master.conf)).toEqual(['127.0.0.1:5353', '[::1]:53']);
      // A worker's load: the snapshot's answer (changed here to show it is the one used).
      const worker = loadConf({ file, prefix: p, snapshot: { ...master.snapshot, hosts: { localhost: ['127.0.0.9', '::9'] } } });
      expect(resolverOf(worker.conf)).toEqual(['127.0.0.9:5353', '[::9]:5353', '[::1]:53']);
    } finally {
      fs.rmSync(p, { recursive: true, force: true });
    }
  });

  it('a bad address is nginx\'s [emerg] with file:line; -t and a start exit 1', async () => {
    for (const [arg, want] of ADDRESSES) {
      const conf = serverConf('', `resolver ${arg};`);
      if (want === null) expect(resolverOf(loadConfText(conf)).length, arg).toBeGreaterThan(0);
      else expect(confErrorOf(conf).message, arg).toMatch(new RegExp(`^${esc(`${want} in resolver "${arg}"`)} in /.*/nginx\\.conf:1$`));
    }
    const p = makePrefix(`events {}\nhttp {\n  resolver 127.0.0.1 nowhere.invalid;\n  server { listen 127.0.0.1:${await freePort()}; }\n}\n`);
    const file = path.join(p, 'conf', 'nginx.conf');
    try {
      const test = await runTresty(['-p', p, '-t']);
      expect(test.code).toBe(1);
      expect(test.stderr.split('\n')[0]).toBe(`tresty: [emerg] host not found in resolver "nowhere.invalid" in ${file}:3`);
      const start = await runTresty(['-p', p]);
      expect(start.code).toBe(1);
      expect(start.stderr.trim()).toBe(`tresty: [emerg] host not found in resolver "nowhere.invalid" in ${file}:3`);
    } finally {
      fs.rmSync(p, { recursive: true, force: true });
    }
  });

  const missing = nginxMissing();
  it.skipIf(missing !== null)(`nginx -t says the same${missing ? ` (skipped: ${missing})` : ''}`, () => {
    for (const [arg, want] of ADDRESSES) {
      const got = nginxConfError('', `resolver ${arg};`);
      if (want === null) expect(got, arg).toBeNull();
      else expect(got, arg).toMatch(new RegExp(`^nginx: \\[emerg\\] ${esc(`${want} in resolver "${arg}"`)} in PREFIX/nginx\\.conf:\\d+$`));
    }
  });
});
