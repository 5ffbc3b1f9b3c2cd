// The real master/worker cluster: bin/tresty.js with worker_processes 2 on free ports.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort, httpGet, slowGet, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';

/** How long new workers may take to be ready: a worker's start is seconds on a machine busy with other jobs. */
const STARTUP_MS = 30_000;

const conf = (port: number, text: string, extra = ''): string => `
worker_processes 2;
error_log logs/error.log info;
events { worker_connections 1024; }
http {
  ${extra}
  server {
    listen 127.0.0.1:${port};
    location / { return 200 "${text} $pid"; }
  }
}
`;

/** Answers as [text, pid]. */
async function ask(port: number): Promise<[string, number]> {
  const r = await httpGet(port, '/');
  expect(r.status).toBe(200);
  const [text, pid] = r.body.trim().split(' ');
  return [text!, Number(pid)];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls a condition of the file system (no event exists for it); fails after 5 s. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within 5 s: ${cond.toString()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Requests in a loop until stopped; every failure is kept. */
function clientLoop(port: number, keepAlive = false): { stop(): Promise<{ ok: number; failures: string[]; texts: Set<string> }> } {
  let running = true;
  const failures: string[] = [];
  const texts = new Set<string>();
  let ok = 0;
  const loop = (async () => {
    while (running) {
      try {
        const r = await httpGet(port, '/', { keepAlive });
        if (r.status !== 200) failures.push(`status ${r.status}`);
        else {
          ok++;
          texts.add(r.body.split(' ')[0]!);
        }
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  })();
  return { async stop() { running = false; await loop; return { ok, failures, texts }; } };
}

afterEach(async () => { await stopAll(); });
afterAll(async () => { await stopAll(); });

describe('master and workers', () => {
  it('serves with 2 workers that both take requests', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port, 'one'));
    const ready = await t.waitFor((e) => e.tresty === 'ready', { past: true });
    const workers = ready.workers as number[];
    expect(workers).toHaveLength(2);
    expect(ready.addresses).toEqual([`127.0.0.1:${port}`]);
    const seen = new Set<number>();
    // Connections 4 at a time: one at a time, a loaded machine may hand every one to one worker.
    for (let i = 0; i < 30 && seen.size < 2; i++) for (const a of await Promise.all([1, 2, 3, 4].map(() => ask(port)))) seen.add(a[1]);
    expect([...seen].sort()).toEqual([...workers].sort());
    expect(fs.readFileSync(path.join(t.prefix, 'logs', 'tresty.pid'), 'utf8').trim()).toBe(String(t.pid));
  });

  it('replaces a killed worker and keeps serving', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port, 'one'));
    const [victim, other] = (await t.waitFor((e) => e.tresty === 'ready', { past: true })).workers as number[];
    const respawned = t.waitFor((e) => e.tresty === 'worker-ready' && e.pid !== victim && e.pid !== other);
    const exited = t.waitFor((e) => e.tresty === 'worker-exit' && e.pid === victim);
    process.kill(victim!, 'SIGKILL');
    await exited;
    for (let i = 0; i < 5; i++) expect((await ask(port))[0]).toBe('one');
    const fresh = (await respawned).pid as number;
    const seen = new Set<number>();
    for (let i = 0; i < 50 && !seen.has(fresh); i++) seen.add((await ask(port))[1]);
    expect(seen.has(fresh)).toBe(true);
    expect(seen.has(victim!)).toBe(false);
    expect(t.errorLog()).toMatch(new RegExp(`\\[alert\\] \\d+#0: worker process ${victim} exited on signal SIGKILL`));
  });

  it('a worker that throws outside any request is logged and replaced', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port, 'one').replace('location / {',
      'location /crash { content_by_js_block { setTimeout(() => { throw new Error("kaboom"); }, 0); ngx.say("bye"); } }\n    location / {'));
    const exited = t.waitFor((e) => e.tresty === 'worker-exit');
    const replaced = t.waitFor((e) => e.tresty === 'worker-ready');
    expect((await httpGet(port, '/crash')).body).toBe('bye\n');
    expect((await exited).code).toBe(1);
    await replaced;
    expect(t.errorLog()).toMatch(/\[alert\] \d+#0: worker process \d+ uncaught exception: Error: kaboom/);
    expect(t.errorLog()).toMatch(/\[alert\] \d+#0: worker process \d+ exited with code 1/);
    for (let i = 0; i < 4; i++) expect((await ask(port))[0]).toBe('one');
  });

  it('-s reload changes the answer with no failed request', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port, 'one'));
    const old = (await t.waitFor((e) => e.tresty === 'ready', { past: true })).workers as number[];
    // One client opens a connection per request, one keeps its connections alive.
    const loop = clientLoop(port);
    const kaLoop = clientLoop(port, true);
    while ((await ask(port))[0] !== 'one');
    t.writeConf(conf(port, 'two'));
    const reloaded = t.waitFor((e) => e.tresty === 'reloaded', { timeoutMs: STARTUP_MS });
    const oldGone = Promise.all(old.map((pid) => t.waitFor((e) => e.tresty === 'worker-exit' && e.pid === pid, { timeoutMs: STARTUP_MS })));
    const r = await t.cli(['-s', 'reload']);
    expect(r.code, r.stderr).toBe(0);
    await reloaded;
    await oldGone;
    for (const result of [await loop.stop(), await kaLoop.stop()]) {
      expect(result.failures).toEqual([]);
      expect(result.ok).toBeGreaterThan(0);
    }
    for (let i = 0; i < 6; i++) expect((await ask(port))[0]).toBe('two');
  }, 3 * STARTUP_MS);

  it('a reload with a broken conf keeps the old workers serving', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port, 'one'));
    t.writeConf(conf(port, 'two').replace('events', 'no_such_directive on;\nevents'));
    const failed = t.waitFor((e) => e.tresty === 'reload-failed');
    process.kill(t.pid, 'SIGHUP'); // `-s reload` itself refuses a broken conf, as nginx's does
    const e = await failed;
    expect(e.code).toBe('TRESTY_ERR_CONF_UNKNOWN_DIRECTIVE');
    expect(t.errorLog()).toMatch(/\[emerg\] \d+#0: unknown directive "no_such_directive" in .*nginx\.conf:\d+/);
    for (let i = 0; i < 4; i++) expect((await ask(port))[0]).toBe('one');
  });

  it('a reload with an unknown variable is refused as nginx -t refuses it; the old workers keep serving', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port, 'one'));
    t.writeConf(conf(port, 'two').replace('$pid', '$reqest_uri'));
    const failed = t.waitFor((e) => e.tresty === 'reload-failed');
    process.kill(t.pid, 'SIGHUP');
    const e = await failed;
    expect(e.code).toBe('TRESTY_ERR_CONF_UNKNOWN_VAR');
    expect(t.errorLog()).toMatch(/\[emerg\] \d+#0: unknown "reqest_uri" variable in .*nginx\.conf:\d+/);
    for (let i = 0; i < 4; i++) expect((await ask(port))[0]).toBe('one');
  });

  it('a reload whose workers cannot listen keeps the old workers serving', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port, 'one'));
    const blocker = net.createServer();
    const busy = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
    try {
      t.writeConf(conf(port, 'two').replace(`listen 127.0.0.1:${port};`, `listen 127.0.0.1:${port}; listen 127.0.0.1:${busy};`));
      const failed = t.waitFor((e) => e.tresty === 'reload-failed');
      expect((await t.cli(['-s', 'reload'])).code).toBe(0);
      expect((await failed).code).toBe('TRESTY_ERR_RELOAD');
      for (let i = 0; i < 4; i++) expect((await ask(port))[0]).toBe('one');
    } finally {
      blocker.close();
    }
  });

  it('-s reopen reopens the log files', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port, 'one'));
    const log = path.join(t.prefix, 'logs', 'error.log');
    fs.renameSync(log, `${log}.1`);
    const reopened = t.waitFor((e) => e.tresty === 'reopened');
    expect((await t.cli(['-s', 'reopen'])).code).toBe(0);
    await reopened;
    expect(fs.existsSync(log)).toBe(true);
    expect(fs.readFileSync(`${log}.1`, 'utf8')).toMatch(/\[notice\] \d+#0: start worker process/);
  });

  it('-s reopen reopens the workers\' access logs too', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port, 'one', 'access_log logs/access.log;'));
    const log = path.join(t.prefix, 'logs', 'access.log');
    await ask(port);
    await until(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('GET / HTTP/1.1'));
    fs.renameSync(log, `${log}.1`);
    expect((await t.cli(['-s', 'reopen'])).code).toBe(0);
    // Each worker creates the file again when it handles the message.
    await until(() => fs.existsSync(log));
    // Both workers end up writing to the new file (one may get the message a moment later).
    const lines = (): number => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
    for (let i = 0; i < 50 && lines() < 4; i++) {
      await ask(port);
      await new Promise((r) => setImmediate(r));
    }
    await until(() => lines() >= 4);
    expect(fs.readFileSync(`${log}.1`, 'utf8')).toContain('GET / HTTP/1.1');
  });

  it('-s quit stops the master and the workers and removes the pid file', async () => {
    const port = await freePort();
    const t: TrestyProcess = await startTresty(conf(port, 'one'));
    const workers = (await t.waitFor((e) => e.tresty === 'ready', { past: true })).workers as number[];
    const pidFile = path.join(t.prefix, 'logs', 'tresty.pid');
    expect(fs.existsSync(pidFile)).toBe(true);
    const r = await t.cli(['-s', 'quit']);
    expect(r.code, r.stderr).toBe(0);
    expect(await t.exited).toBe(0);
    expect(fs.existsSync(pidFile)).toBe(false);
    for (const pid of workers) expect(alive(pid)).toBe(false);
    await expect(httpGet(port, '/')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('-s stop is a fast stop', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port, 'one'));
    expect((await t.cli(['-s', 'stop'])).code).toBe(0);
    expect(await t.exited).toBe(0);
    expect(fs.existsSync(path.join(t.prefix, 'logs', 'tresty.pid'))).toBe(false);
  });
});

describe('a worker that keeps dying at start', () => {
  it('is respawned with growing delays, then given up with an [alert]; a reload brings it back', async () => {
    const port = await freePort();
    const crash = (prefix: string): string => `${prefix}/crash`;
    const t = await startTresty(conf(port, 'one', ''), { files: {} });
    // The conf is rewritten in place (same prefix) with an init_worker that dies when a file exists.
    const withInit = (p: string): string => conf(port, 'one').replace('http {',
      `http {\n  init_worker_by_js_block { if (require('node:fs').existsSync(${JSON.stringify(crash(p))})) process.exit(3); }`);
    t.writeConf(withInit(t.prefix));
    const reloaded = t.waitFor((e) => e.tresty === 'reloaded', { timeoutMs: STARTUP_MS });
    expect((await t.cli(['-s', 'reload'])).code).toBe(0);
    const [victim, other] = (await reloaded).workers as number[];
    fs.writeFileSync(crash(t.prefix), '');
    const gaveUp = t.waitFor((e) => e.tresty === 'worker-gave-up', { timeoutMs: 3 * STARTUP_MS });
    const since = Date.now();
    process.kill(victim!, 'SIGKILL');
    const g = await gaveUp;
    expect(g.failures).toBe(5);
    const spawns = t.events.filter((e) => e.tresty === 'worker-spawn' && e.receivedAt! >= since).map((e) => e.receivedAt!);
    // The victim itself was young (started by the reload), so its death already counts: 4 or 5 respawns.
    expect(spawns.length).toBeGreaterThanOrEqual(4);
    expect(spawns.length).toBeLessThanOrEqual(5);
    for (let i = 2; i < spawns.length; i++) expect(spawns[i]! - spawns[i - 1]!).toBeGreaterThanOrEqual(90);
    expect(t.errorLog()).toMatch(/\[alert\] \d+#0: worker process 0 died 5 times at start, not respawning it/);
    // The other worker still serves.
    expect(await ask(port)).toEqual(['one', other]);
    // Fixed: a reload starts a full set again.
    fs.rmSync(crash(t.prefix));
    const back = t.waitFor((e) => e.tresty === 'reloaded', { timeoutMs: STARTUP_MS });
    expect((await t.cli(['-s', 'reload'])).code).toBe(0);
    expect((await back).workers).toHaveLength(2);
  }, 6 * STARTUP_MS);
});

describe('graceful stops finish in-flight requests', () => {
  const slowConf = (port: number, text: string): string => conf(port, text).replace('location / {',
    `location /slow {
      content_by_js_block {
        ngx.say("started");
        await ngx.flush(true);
        await ngx.sleep(0.3);
        ngx.say("${text} done");
      }
    }
    location / {`);

  it('-s quit waits for a request in flight', async () => {
    const port = await freePort();
    const t = await startTresty(slowConf(port, 'one'));
    const req = slowGet(port, '/slow');
    await req.started;
    expect((await t.cli(['-s', 'quit'])).code).toBe(0);
    expect(await req.done).toBe('started\none done\n');
    expect(await t.exited).toBe(0);
  });

  it('a reload lets the old worker finish its request', async () => {
    const port = await freePort();
    const t = await startTresty(slowConf(port, 'one'));
    const req = slowGet(port, '/slow');
    await req.started;
    t.writeConf(slowConf(port, 'two'));
    const reloaded = t.waitFor((e) => e.tresty === 'reloaded', { timeoutMs: STARTUP_MS });
    expect((await t.cli(['-s', 'reload'])).code).toBe(0);
    await reloaded;
    expect((await ask(port))[0]).toBe('two');
    expect(await req.done).toBe('started\none done\n');
  }, 3 * STARTUP_MS);
});
