// stub_status counts across all workers, on both engines: idle keep-alive connections are
// Waiting, a half-sent head is Reading (native engine; node:http parses a head whole before
// tresty sees it, so there it waits), the status request itself is Writing, `requests` grows,
// and the counts survive a reload (the master makes the shared page once, as nginx does).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

interface Status { active: number; accepted: number; handled: number; requests: number; reading: number; writing: number; waiting: number }

const FORMAT = /^Active connections: (\d+) \nserver accepts handled requests\n (\d+) (\d+) (\d+) \nReading: (\d+) Writing: (\d+) Waiting: (\d+) \n$/;

async function status(port: number): Promise<Status> {
  const r = await httpGet(port, '/status');
  expect(r.status).toBe(200);
  const m = FORMAT.exec(r.body);
  expect(m, r.body).not.toBeNull();
  const [active, accepted, handled, requests, reading, writing, waiting] = m!.slice(1).map(Number);
  return { active, accepted, handled, requests, reading, writing, waiting };
}

/** Polls until `ok` holds (counts move when the other end has seen a close): no fixed sleep. */
async function until(port: number, ok: (s: Status) => boolean, ms = 5000): Promise<Status> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await status(port);
    if (ok(s) || Date.now() > end) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A keep-alive connection that asked /pid once and now sits idle; resolves with the worker's pid. */
function idleConn(port: number): Promise<{ s: net.Socket; pid: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    s.setEncoding('latin1');
    s.on('error', reject);
    s.on('data', (d: string) => {
      data += d;
      const m = /\r\n\r\npid=(\d+)\n$/.exec(data);
      if (m) resolve({ s, pid: m[1] });
    });
    s.write('GET /pid HTTP/1.1\r\nHost: x\r\n\r\n');
  });
}

/** A connection that sent part of a head and waits. */
function halfHead(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write('GET /pid HTTP/1.1\r\nHost: x\r\n', () => resolve(s));
    });
    s.on('error', reject);
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'stub_status counts across 2 workers'), () => {
    let t: TrestyProcess;
    let port: number;
    const open: net.Socket[] = [];
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 2; error_log logs/error.log info; events {}
        http { log_format st '$request_uri $connections_active $connections_writing'; access_log logs/st.log st;
          server { listen 127.0.0.1:${port};
          location = /status { stub_status; }
          location = /pid { return 200 "pid=$pid\\n"; }
          location = /vars { return 200 "$connections_active $connections_reading $connections_writing $connections_waiting\\n"; }
        } }`, { env: e.env });
    });
    afterAll(async () => {
      for (const s of open) s.destroy();
      await t?.stop();
    });

    it('idle keep-alive connections on both workers are Waiting; the status request is Writing', async () => {
      const base = await until(port, (s) => s.active === 1);
      expect(base).toMatchObject({ active: 1, writing: 1, reading: 0, waiting: 0 });
      const pids = new Set<string>();
      // Until both workers hold some (each connection lands on either).
      // Opened 2 at a time: one at a time, a loaded machine may hand every one to one worker.
      for (let i = 0; i < 20 && (pids.size < 2 || open.length < 4); i++) {
        for (const c of await Promise.all([idleConn(port), idleConn(port)])) {
          open.push(c.s);
          pids.add(c.pid);
        }
      }
      expect(pids.size).toBe(2);
      const s = await until(port, (x) => x.waiting === open.length && x.active === open.length + 1 && x.reading === 0);
      expect(s).toMatchObject({ active: open.length + 1, writing: 1, reading: 0, waiting: open.length });
      expect(s.accepted).toBeGreaterThanOrEqual(base.accepted + open.length + 1);
      expect(s.handled).toBe(s.accepted);
    });

    it('a half-sent head is Reading on the native engine (waiting on node:http)', async () => {
      const h = await halfHead(port);
      open.push(h);
      const native = e.name === 'native';
      const want = { active: open.length + 1, reading: native ? 1 : 0, writing: 1, waiting: open.length - (native ? 1 : 0) };
      // Polled whole: a connection of an earlier poll may still be closing on the other worker.
      const s = await until(port, (x) => x.active === want.active && x.reading === want.reading && x.waiting === want.waiting);
      expect(s).toMatchObject(want);
      const line = `${want.active} ${want.reading} ${want.writing} ${want.waiting}\n`;
      let v = '';
      for (const end = Date.now() + 5000; v !== line && Date.now() < end;) v = (await httpGet(port, '/vars')).body;
      expect(v).toBe(line);
    });

    it('closed connections leave Active; requests grows by each request', async () => {
      for (const s of open.splice(0)) s.destroy();
      const s1 = await until(port, (x) => x.active === 1);
      expect(s1).toMatchObject({ active: 1, reading: 0, writing: 1, waiting: 0 });
      for (let i = 0; i < 3; i++) await httpGet(port, '/pid');
      const s2 = await status(port);
      expect(s2.requests).toBe(s1.requests + 4);
      expect(s2.accepted).toBe(s1.accepted + 4);
    });

    it('the variables work in log_format', async () => {
      await httpGet(port, '/pid?logged');
      const end = Date.now() + 5000;
      let text = '';
      while (!/\/pid\?logged \d+ \d+\n/.test(text) && Date.now() < end) {
        text = fs.existsSync(path.join(t.prefix, 'logs/st.log')) ? fs.readFileSync(path.join(t.prefix, 'logs/st.log'), 'utf8') : '';
        await new Promise((r) => setTimeout(r, 50));
      }
      // Numbers, not `-` (the counts themselves depend on when the log line is made).
      expect(text).toMatch(/^\/pid\?logged \d+ \d+$/m);
    });

    it('the counts survive a reload (nginx keeps them in shared memory)', async () => {
      const before = await status(port);
      t.child.kill('SIGHUP');
      await t.waitFor((m) => m.tresty === 'reloaded');
      const after = await status(port);
      expect(after.accepted).toBeGreaterThan(before.accepted);
      expect(after.requests).toBeGreaterThan(before.requests);
      const settled = await until(port, (x) => x.active === 1);
      expect(settled.active).toBe(1);
    });
  });
}
