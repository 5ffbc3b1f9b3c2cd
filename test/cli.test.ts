// The command line, as nginx's: messages, exit codes, -t/-T/-s/-g/-p/-v/-V/-h.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, makePrefix, runTresty, startTresty, stopAll } from './helpers/server.js';

const good = (port: number): string => `worker_processes 1;
events {}
http {
  server {
    listen 127.0.0.1:${port};
    location / { return 200 "ok"; }
  }
}
`;

const prefixes: string[] = [];
function prefixWith(conf: string, files?: Record<string, string>): string {
  const p = makePrefix(conf, files);
  prefixes.push(p);
  return p;
}

afterAll(async () => {
  await stopAll();
  for (const p of prefixes) fs.rmSync(p, { recursive: true, force: true });
});

describe('tresty -t / -T', () => {
  it('accepts a good conf with nginx\'s two lines', async () => {
    const p = prefixWith(good(8080));
    const conf = path.join(p, 'conf', 'nginx.conf');
    const r = await runTresty(['-p', p, '-t']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`tresty: the configuration file ${conf} syntax is ok\n`
      + `tresty: configuration file ${conf} test is successful\n`);
    expect(r.stdout).toBe('');
  });

  it('rejects a bad conf with [emerg] ... in FILE:LINE and exit 1', async () => {
    const p = prefixWith('events {}\nhttp {\n  server {\n    listen 70000;\n  }\n}\n');
    const conf = path.join(p, 'conf', 'nginx.conf');
    const r = await runTresty(['-p', p, '-t']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^tresty: \\[emerg\\] .* in ${conf.replace(/[.]/g, '\\.')}:4$`));
    expect(lines[1]).toBe(`tresty: configuration file ${conf} test failed`);
  });

  it('rejects an unknown variable as nginx -t does, naming the use\'s file:line', async () => {
    const p = prefixWith('events {}\nhttp {\n  server {\n    listen 8080;\n    location / { return 200 $reqest_uri; }\n  }\n}\n');
    const conf = path.join(p, 'conf', 'nginx.conf');
    const r = await runTresty(['-p', p, '-t']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`tresty: [emerg] unknown "reqest_uri" variable in ${conf}:5`);
  });

  it('fails -t when a JS block does not compile', async () => {
    const p = prefixWith('events {}\nhttp { server { listen 8080; location / {\n content_by_js_block { ngx.say( } } } }\n');
    const r = await runTresty(['-p', p, '-t']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tresty: \[emerg\] /);
  });

  it('-q keeps -t quiet on success', async () => {
    const p = prefixWith(good(8080));
    const r = await runTresty(['-p', p, '-tq']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('-T prints every conf file after the test', async () => {
    const p = prefixWith(good(8080).replace('http {', 'include extra.conf;\nhttp {'), { 'conf/extra.conf': '# extra\n' });
    const r = await runTresty(['-p', p, '-T']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/test is successful/);
    expect(r.stdout).toContain(`# configuration file ${path.join(p, 'conf', 'nginx.conf')}:`);
    expect(r.stdout).toContain(`# configuration file ${path.join(p, 'conf', 'extra.conf')}:\n# extra\n`);
  });

  it('defaults the prefix to the current directory', async () => {
    const p = prefixWith(good(8080));
    const r = await runTresty(['-t'], { cwd: p });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(path.join(p, 'conf', 'nginx.conf'));
  });

  it('-c takes another file, relative to the prefix', async () => {
    const p = prefixWith('garbage', { 'conf/other.conf': good(8080) });
    const r = await runTresty(['-p', p, '-c', 'conf/other.conf', '-t']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(path.join(p, 'conf', 'other.conf'));
  });

  it('a missing conf file is an [emerg]', async () => {
    const r = await runTresty(['-p', '/nonexistent-tresty-prefix', '-t']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tresty: \[emerg\] .*\/nonexistent-tresty-prefix\/conf\/nginx\.conf/);
  });

  it('-g adds main-level directives (a duplicate is an [emerg])', async () => {
    const p = prefixWith(good(8080));
    const ok = await runTresty(['-p', p, '-g', 'pid logs/other.pid;', '-t']);
    expect(ok.code, ok.stderr).toBe(0);
    const dup = await runTresty(['-p', p, '-g', 'worker_processes 2;', '-t']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/\[emerg\] .*duplicate/);
  });
});

describe('tresty -v / -V / -h and bad usage', () => {
  it('-v and -V print the version', async () => {
    const v = await runTresty(['-v']);
    expect(v.code).toBe(0);
    expect(v.stderr).toMatch(/^tresty version: tresty\/\d+\.\d+\.\d+\n$/);
    const V = await runTresty(['-V']);
    expect(V.stderr).toMatch(/built with Node\.js v\d+/);
  });

  it('-h prints the usage', async () => {
    const r = await runTresty(['-h']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Usage: tresty/);
    expect(r.stderr).toMatch(/-s signal/);
  });

  it.each([
    [['-x'], 'tresty: invalid option: "x"'], // nginx names the letter
    [['-s', 'restart'], 'tresty: invalid option: "-s restart"'],
    [['-c'], 'tresty: option "-c" requires file name'],
    [['foo'], 'tresty: invalid option: "foo"'],
  ])('%j is refused', async (args, message) => {
    const r = await runTresty(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${message}\n`);
  });
});

describe('tresty -s and start-up failures', () => {
  it('-s without a running master reports the pid file', async () => {
    const p = prefixWith(good(8080));
    const r = await runTresty(['-p', p, '-s', 'reload']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tresty: \[error\] open\(\) ".*\/logs\/tresty\.pid" failed/);
  });

  it('-s with a stale pid reports the failed kill', async () => {
    const p = prefixWith(good(8080), { 'logs/tresty.pid': '2147483646\n' });
    const r = await runTresty(['-p', p, '-s', 'quit']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tresty: \[alert\] kill\(2147483646, SIGQUIT\) failed/);
  });

  it('a port already in use stops the start with [emerg] bind() ... failed', async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
    try {
      const p = prefixWith(good(port));
      const r = await runTresty(['-p', p], { timeoutMs: 15_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^tresty: \\[emerg\\] bind\\(\\) to 127\\.0\\.0\\.1:${port} failed \\(EADDRINUSE`));
      expect(fs.existsSync(path.join(p, 'logs', 'tresty.pid'))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('daemon off; is accepted and stays in the foreground', async () => {
    const port = await freePort();
    const t = await startTresty(`daemon off;\n${good(port)}`);
    expect(t.child.exitCode).toBeNull();
    await t.stop();
  });
});

describe('daemon on', () => {
  it('detaches: the command returns once the master is ready, -s quit stops it', async () => {
    const port = await freePort();
    const p = prefixWith(`daemon on;\n${good(port)}`);
    const r = await runTresty(['-p', p], { timeoutMs: 15_000 });
    expect(r.code, r.stderr).toBe(0);
    const pidFile = path.join(p, 'logs', 'tresty.pid');
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(await res.text()).toBe('ok');
      expect((await runTresty(['-p', p, '-s', 'quit'])).code).toBe(0);
      // The daemon is not our child: watch the pid file go (it is removed last).
      await new Promise<void>((resolve, reject) => {
        const deadline = Date.now() + 10_000;
        const check = (): void => {
          if (!fs.existsSync(pidFile)) return resolve();
          if (Date.now() > deadline) return reject(new Error('the daemon did not remove its pid file'));
          setTimeout(check, 20);
        };
        check();
      });
    } finally {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone, as it should be */ }
    }
  });

  it('reports a start-up failure of the daemon on the launcher\'s stderr', async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
    try {
      const p = prefixWith(`daemon on;\n${good(port)}`);
      const r = await runTresty(['-p', p], { timeoutMs: 15_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^tresty: \[emerg\] bind\(\) to .* failed/);
    } finally {
      blocker.close();
    }
  });
});
