// Real nginx + lua-nginx-module for tests that check tresty's expectations against OpenResty's
// behaviour: the Lua form of a case runs there with the same expected answers. Started in a
// temp prefix on a free port, in the foreground (daemon off), killed at the end.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const MODULE_DIRS = ['/usr/lib/nginx/modules', '/usr/share/nginx/modules', '/usr/lib64/nginx/modules'];

function modules(): string | undefined {
  return MODULE_DIRS.find((d) => fs.existsSync(path.join(d, 'ngx_http_lua_module.so')) && fs.existsSync(path.join(d, 'ndk_http_module.so')));
}

/** Why nginx + lua cannot run here, or null when it can. */
export function nginxMissing(): string | null {
  if (spawnSync('sh', ['-c', 'command -v nginx'], { stdio: 'ignore' }).status !== 0) {
    return 'nginx is not installed (Debian: apt-get install nginx libnginx-mod-http-lua)';
  }
  if (!modules()) return `lua-nginx-module is not installed in ${MODULE_DIRS.join(' or ')} (Debian: apt-get install libnginx-mod-http-lua)`;
  return null;
}

export interface NginxProcess {
  readonly prefix: string;
  errorLog(): string;
  stop(): Promise<void>;
}

function connectable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Starts nginx with `conf` (a whole nginx.conf; `__PREFIX__` and `__MODULES__` are filled in). */
export async function startNginx(conf: string, port: number, files: Record<string, string> = {}): Promise<NginxProcess> {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-nginx-'));
  // nginx's workers run as an unprivileged user when started as root: they must read the files.
  fs.chmodSync(prefix, 0o755);
  fs.mkdirSync(path.join(prefix, 'logs'));
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(prefix, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o755 });
    fs.writeFileSync(p, text, { mode: 0o644 });
  }
  const file = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(file, conf.replace(/__PREFIX__/g, prefix).replace(/__MODULES__/g, modules() ?? ''));
  const log = path.join(prefix, 'logs', 'error.log');
  const child: ChildProcess = spawn('nginx', ['-p', `${prefix}/`, '-c', file, '-e', log], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await connectable(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start: ${stderr}${fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    prefix,
    errorLog: () => { try { return fs.readFileSync(log, 'utf8'); } catch { return ''; } },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGQUIT');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
}
