// nginx's process directives on a real bin/tresty.js: `user` (workers switch once they listen,
// and still write their logs, rotated ones included, and body temp files), worker_rlimit_nofile
// (read back from /proc/PID/limits), worker_priority (/proc/PID/stat), `env NAME=VALUE`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { withTempDir } from './helpers/temp-dir.js';
import { BIN, freePort, httpGet, runTresty, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';

afterAll(stopAll);

const ROOT_USER = process.getuid?.() === 0;
const NOBODY = ROOT_USER ? fs.readFileSync('/etc/passwd', 'utf8').match(/^nobody:[^:]*:(\d+):(\d+):/m) : null;
const NOGROUP = fs.readFileSync('/etc/group', 'utf8').match(/^(nogroup|nobody):[^:]*:(\d+):/m);

function workers(t: TrestyProcess): number[] {
  return (t.events.find((e) => e.tresty === 'ready')!.workers as number[]);
}

function status(pid: number, field: string): string {
  return fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s*(.*)$`, 'm'))![1]!;
}

async function until(f: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !f(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error('condition not met in time');
  }
}

describe('process directives', () => {
  for (const e of ENGINES) {
    it.skipIf(e.skip || !NOBODY || !NOGROUP)(titled(e, 'user: workers run as the user, serve, write logs (after a reopen too) and body temp files'), async () => {
      const port = await freePort();
      const t = await startTresty(`worker_processes 2;
user nobody ${NOGROUP![1]};
worker_rlimit_nofile 4321;
worker_priority 5;
env FROM_CONF=conf-value;
http {
  access_log logs/access.log;
  client_body_buffer_size 1k;
  server {
    listen 127.0.0.1:${port};
    location = /who { content_by_js_block { ngx.say(process.getuid(), " ", process.getgid(), " ", process.env.FROM_CONF) } }
    location = /body {
      content_by_js_block { await ngx.req.read_body(); const f = ngx.req.get_body_file(); ngx.say(f ? "file " + require("node:fs").statSync(f).uid : "memory") }
    }
  }
}`, { env: e.env });
      // mkdtemp made the prefix 0700: let the workers' user reach the logs folder, as a real one would.
      fs.chmodSync(t.prefix, 0o755);
      const [uid, gid] = [NOBODY![1], NOGROUP![2]];
      for (const pid of workers(t)) {
        expect(status(pid, 'Uid').split(/\s+/)).toEqual([uid, uid, uid, uid]);
        expect(status(pid, 'Gid').split(/\s+/)).toEqual([gid, gid, gid, gid]);
        expect(fs.readFileSync(`/proc/${pid}/limits`, 'utf8')).toMatch(/^Max open files\s+4321\s+4321\s+files/m);
        expect(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]).toBe('5'); // nice
      }
      expect(status(t.pid, 'Uid').split(/\s+/)[0]).toBe('0'); // the master stays root
      expect((await httpGet(port, '/who')).body).toBe(`${uid} ${gid} conf-value\n`);
      const body = await httpGet(port, '/body', { method: 'POST', body: 'x'.repeat(4096) });
      expect(body.body).toBe(`file ${uid}\n`);
      const log = path.join(t.prefix, 'logs', 'access.log');
      await until(() => fs.readFileSync(log, 'utf8').includes('GET /who'));
      // A rotated log: the master creates the new file for the workers' user, and they reopen it.
      fs.renameSync(log, `${log}.1`);
      expect((await t.cli(['-s', 'reopen'])).code).toBe(0);
      await until(() => fs.existsSync(log));
      expect(fs.statSync(log).uid).toBe(Number(uid));
      for (let i = 0; i < 40 && !fs.readFileSync(log, 'utf8').includes('GET /who'); i++) {
        await httpGet(port, '/who');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(fs.readFileSync(log, 'utf8')).toContain('GET /who');
      expect(t.errorLog()).not.toMatch(/\[(alert|emerg|crit)\]/);
      await t.stop();
    }, 60_000);
  }

  it('worker_rlimit_nofile without the engine addon: a [warn], and the worker serves', async () => {
    const port = await freePort();
    const t = await startTresty(`worker_processes 1; worker_rlimit_nofile 4000; error_log logs/error.log warn;
http { access_log off; server { listen 127.0.0.1:${port}; location = /ok { return 200 "ok"; } } }`, { env: { TRESTY_NO_NATIVE_ENGINE: '1' } });
    expect((await httpGet(port, '/ok')).body).toBe('ok');
    expect(t.errorLog()).toMatch(/\[warn\] .*worker_rlimit_nofile: not applied, TRESTY_NO_NATIVE_ENGINE=1 is set/);
    expect(fs.readFileSync(`/proc/${workers(t)[0]}/limits`, 'utf8')).not.toMatch(/^Max open files\s+4000\s/m);
    await t.stop();
  }, 60_000);

  for (const e of ENGINES) {
    // Both need the engine addon for setrlimit (node:http too: the addon is loaded for it).
    it.skipIf(e.skip)(titled(e, 'worker_rlimit_core sets the workers\' core file limit; working_directory is their cwd (relative to the prefix)'), async () => {
      const port = await freePort();
      const t = await startTresty(`worker_processes 1; worker_rlimit_core 500M; working_directory cores;
http { access_log off; server { listen 127.0.0.1:${port}; location = /cwd { content_by_js_block { ngx.print(process.cwd()); } } } }`,
      { env: e.env, files: { 'cores/.keep': '' } });
      expect((await httpGet(port, '/cwd')).body).toBe(path.join(t.prefix, 'cores'));
      expect(fs.readFileSync(`/proc/${workers(t)[0]}/limits`, 'utf8')).toMatch(/^Max core file size\s+524288000\s+524288000\s+bytes/m);
      await t.stop();
    }, 60_000);
  }

  it('working_directory that cannot be entered: the workers do not start (nginx\'s worker exits with code 2), the reason logged', async () => {
    await withTempDir('tresty-wd-', async (dir) => {
      fs.mkdirSync(path.join(dir, 'logs'));
      fs.writeFileSync(path.join(dir, 'c.conf'), 'working_directory nonexist; error_log logs/error.log info;\nhttp { server { listen 127.0.0.1:1; } }\n');
      const r = await runTresty(['-p', dir, '-c', 'c.conf']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`chdir("${path.join(dir, 'nonexist')}") failed (2: No such file or directory)`);
      expect(fs.readFileSync(path.join(dir, 'logs/error.log'), 'utf8')).toMatch(/\[emerg\] \d+#\d+: chdir\(".*nonexist"\) failed \(2: No such file or directory\)/);
    });
  }, 60_000);

  it.skipIf(!ROOT_USER)('user: an unknown user or group is a conf error, as nginx\'s getpwnam()/getgrnam() failures', async () => {
    await withTempDir('tresty-user-', async (dir) => {
      fs.writeFileSync(path.join(dir, 'a.conf'), 'user no_such_user_x;\n');
      fs.writeFileSync(path.join(dir, 'b.conf'), 'user nobody no_such_group_x;\n');
      const a = await runTresty(['-t', '-p', dir, '-c', 'a.conf']);
      expect(a.code).toBe(1);
      expect(a.stderr).toMatch(/\[emerg\] getpwnam\("no_such_user_x"\) failed in .*a\.conf:1/);
      const b = await runTresty(['-t', '-p', dir, '-c', 'b.conf']);
      expect(b.stderr).toMatch(/\[emerg\] getgrnam\("no_such_group_x"\) failed in .*b\.conf:1/);
    });
  });

  it.skipIf(!NOBODY)('user: a master that is not root ignores it with nginx\'s [warn] (tresty -t run as nobody)', () => {
    // In /tmp itself, whatever TMPDIR says: nobody must be able to enter it.
    const dir = fs.mkdtempSync('/tmp/tresty-user-');
    fs.chmodSync(dir, 0o777); // -t opens the error log, as nginx -t does
    fs.writeFileSync(path.join(dir, 'c.conf'), 'user www-data;\n');
    // The checkout may sit under a folder only root may enter (CI clones into a 0700 mktemp
    // folder): let nobody pass through on the way to BIN while it runs, as an install would.
    const opened: [string, number][] = [];
    for (let d = path.dirname(BIN); d !== path.dirname(d); d = path.dirname(d)) {
      const mode = fs.statSync(d).mode & 0o7777;
      if ((mode & 0o001) === 0) {
        fs.chmodSync(d, mode | 0o001);
        opened.push([d, mode]);
      }
    }
    let r;
    try {
      r = spawnSync(process.execPath, [BIN, '-t', '-p', dir, '-c', 'c.conf'], { uid: Number(NOBODY![1]), gid: Number(NOBODY![2]), encoding: 'utf8' });
    } finally {
      for (const [d, mode] of opened) fs.chmodSync(d, mode);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(r.stderr).not.toMatch(/EACCES|Cannot find module/);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/\[warn\] the "user" directive makes sense only if the master process runs with super-user privileges, ignored in .*c\.conf:1/);
  });

  it('bad values are conf errors naming file:line', async () => {
    await withTempDir('tresty-proc-', async (dir) => {
      for (const [conf, re] of [
        ['worker_rlimit_nofile many;', /"worker_rlimit_nofile" directive invalid number "many"/],
        ['env =x;', /invalid value "=x" in "env" directive/],
        ['worker_shutdown_timeout soon;', /"worker_shutdown_timeout" directive invalid value "soon"/],
        ['user a b c;', /invalid number of arguments in "user" directive/],
      ] as const) {
        fs.writeFileSync(path.join(dir, 'c.conf'), `${conf}\n`);
        const r = await runTresty(['-t', '-p', dir, '-c', 'c.conf']);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(re);
        expect(r.stderr).toMatch(/c\.conf:1/);
      }
    });
  });
});
