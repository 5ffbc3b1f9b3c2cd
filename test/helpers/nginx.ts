// Real nginx + lua-nginx-module for tests that compare tresty with what nginx answers: one
// process (daemon off, master_process off) in a temp prefix on a free port.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './server.js';
import { withTempDir } from './temp-dir.js';

const MODULE_DIRS = ['/usr/lib/nginx/modules', '/usr/share/nginx/modules', '/usr/lib64/nginx/modules'];

function moduleDir(): string | undefined {
  return MODULE_DIRS.find((d) => fs.existsSync(path.join(d, 'ngx_http_lua_module.so')) && fs.existsSync(path.join(d, 'ndk_http_module.so')));
}

/** Why nginx + lua cannot run here, or null when it can. */
export function nginxMissing(): string | null {
  if (spawnSync('sh', ['-c', 'command -v nginx'], { stdio: 'ignore' }).status !== 0) {
    return 'nginx is not installed (Debian: apt-get install nginx libnginx-mod-http-lua)';
  }
  if (!moduleDir()) return `lua-nginx-module is not in ${MODULE_DIRS.join(' or ')} (Debian: apt-get install libnginx-mod-http-lua)`;
  return null;
}

/** Why headers-more (more_set_headers ...) cannot run on nginx here, or null when it can. */
export function headersMoreMissing(): string | null {
  const dir = moduleDir();
  if (dir && fs.existsSync(path.join(dir, 'ngx_http_headers_more_filter_module.so'))) return null;
  return 'headers-more is not installed (Debian: apt-get install libnginx-mod-http-headers-more-filter)';
}

export interface Nginx {
  port: number;
  prefix: string;
  /** error.log text written since start. */
  errorLog(): string;
  stop(): Promise<void>;
}

/** nginx.conf: the modules, logs and temp paths in `prefix`, one server on `port`. */
function confOf(prefix: string, port: number, server: string, http: string): string {
  const mods = moduleDir();
  return `load_module ${mods}/ndk_http_module.so;
load_module ${mods}/ngx_http_lua_module.so;
${headersMoreMissing() === null ? `load_module ${mods}/ngx_http_headers_more_filter_module.so;` : ''}
daemon off;
master_process off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log info;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  ${http}
  server {
    listen 127.0.0.1:${port};
    ${server}
  }
}
`;
}

/**
 * Starts nginx with `server` as the body of its one server block (listen is added) and `http`
 * at the http level; `files` (paths relative to the prefix) are written first, `__PREFIX__`
 * in `server` and `http` is the prefix and `__PORT__` the port (for more servers on it).
 */
export async function startNginx(server: string, http = '', files: Record<string, string> = {}): Promise<Nginx> {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-nginx-'));
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(prefix, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  }
  const port = await freePort();
  server = server.replace(/__PREFIX__/g, prefix).replace(/__PORT__/g, String(port));
  http = http.replace(/__PREFIX__/g, prefix).replace(/__PORT__/g, String(port));
  const conf = confOf(prefix, port, server, http);
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  const proc: ChildProcess = spawn('nginx', ['-p', `${prefix}/`, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d) => { stderr += String(d); });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nginx exited: ${stderr || fs.readFileSync(path.join(prefix, 'error.log'), 'utf8')}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`nginx did not listen on ${port}: ${stderr}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    prefix,
    errorLog: () => { try { return fs.readFileSync(path.join(prefix, 'error.log'), 'utf8'); } catch { return ''; } },
    async stop() {
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/**
 * `nginx -t` on the conf startNginx would write: null when nginx accepts it, else its first
 * emerg line with the prefix shown as `PREFIX` (a refusal's file:line reads `PREFIX/nginx.conf:N`).
 */
export function nginxConfError(server: string, http = ''): string | null {
  const { status, stderr, prefix } = nginxTest(server, http);
  if (status === 0) return null;
  const line = stderr.split('\n').find((l) => l.includes('[emerg]')) ?? stderr;
  return line.split(prefix).join('PREFIX');
}

/** `nginx -t`'s `[warn]` messages for the conf startNginx would write, without `in FILE:LINE`. */
export function nginxConfWarnings(server: string, http = ''): string[] {
  return nginxTest(server, http).stderr.split('\n').filter((l) => l.includes('[warn]')).map((l) => l.replace(/^.*\[warn\] (?:[\d#]+: )?/, '').replace(/ in \S+:\d+$/, ''));
}

/** `nginx -t` on the conf startNginx would write, in a prefix removed after (named, for messages that show it). */
function nginxTest(server: string, http: string): { status: number | null; stderr: string; prefix: string } {
  return withTempDir('tresty-nginx-t-', (prefix) => {
    fs.writeFileSync(path.join(prefix, 'nginx.conf'), confOf(prefix, 1, server, http));
    const t = spawnSync('nginx', ['-t', '-p', `${prefix}/`, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'error.log')], { encoding: 'utf8' });
    return { status: t.status, stderr: t.stderr, prefix };
  });
}

/**
 * nginx run on the conf startNginx would write, for a start expected to fail (init_by_lua): its
 * exit status, stderr and error.log. `files` are written in the prefix first (`__PREFIX__` in
 * `http`). A start that succeeds is stopped after 5 s at most.
 */
export function nginxStartFailure(server: string, http = '', files: Record<string, string> = {}): { status: number | null; stderr: string; errorLog: string } {
  return withTempDir('tresty-nginx-f-', (prefix) => {
    for (const [rel, text] of Object.entries(files)) fs.writeFileSync(path.join(prefix, rel), text);
    fs.writeFileSync(path.join(prefix, 'nginx.conf'), confOf(prefix, 1, server, http.replace(/__PREFIX__/g, prefix)));
    const log = path.join(prefix, 'error.log');
    const t = spawnSync('nginx', ['-p', `${prefix}/`, '-c', path.join(prefix, 'nginx.conf'), '-e', log], { encoding: 'utf8', timeout: 5000 });
    return { status: t.status, stderr: t.stderr, errorLog: fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '' };
  });
}
