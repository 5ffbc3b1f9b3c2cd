// Starts the servers bench/http.mjs compares, each on a free 127.0.0.1 port, in a temp prefix,
// tracked for cleanup: tresty (conf/bench/tresty.conf), bare node:http in node:cluster
// (bench/servers/node-cluster.mjs) and nginx + lua-nginx-module (conf/bench/nginx-lua.conf).
// Each resolves { name, url(path), stop() } or, for nginx when it cannot run here, { skipped }.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitForHttp } from './net.mjs';
import { dropDir, spawnTracked, tempDir } from './procs.mjs';
import { ROOT } from './tresty-dist.mjs';

const CONF = path.join(ROOT, 'conf', 'bench');
const MODULE_DIRS = ['/usr/lib/nginx/modules', '/usr/share/nginx/modules', '/usr/lib64/nginx/modules'];

function fill(template, vars) {
  let text = readFileSync(path.join(CONF, template), 'utf8');
  for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`__${k}__`, v);
  return text;
}

/** Retries once on a port someone else took between freePort() and listen. */
async function launch(name, start) {
  let last;
  for (let attempt = 0; attempt < 2; attempt++) {
    const port = await freePort();
    const dir = tempDir(name);
    const proc = start(port, dir);
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(`${base}/hello`, { proc });
      return {
        name, port,
        url: (p) => `${base}${p}`,
        async stop() {
          await proc.stop();
          dropDir(dir);
        },
      };
    } catch (e) {
      last = e;
      await proc.stop();
      dropDir(dir);
      if (!/EADDRINUSE|address already in use/i.test(e.message)) break;
    }
  }
  throw new Error(`${name} did not start: ${last.message}`);
}

export function startTresty({ udsSocket }) {
  const bin = path.join(ROOT, 'bin', 'tresty.js');
  return launch('tresty', (port, dir) => {
    mkdirSync(path.join(dir, 'logs'));
    mkdirSync(path.join(dir, 'conf'));
    const conf = path.join(dir, 'conf', 'tresty.conf');
    writeFileSync(conf, fill('tresty.conf', { PORT: String(port), ROOT, UDS: udsSocket }));
    return spawnTracked(process.execPath, [bin, '-p', dir, '-c', conf], { cwd: dir });
  });
}

export function startNodeCluster({ workers }) {
  const script = path.join(ROOT, 'bench', 'servers', 'node-cluster.mjs');
  return launch('node-cluster', (port) => spawnTracked(process.execPath, [script], {
    env: { ...process.env, PORT: String(port), WORKERS: String(workers) },
  }));
}

/** Why nginx + lua cannot run here, or null when it can. */
export function nginxMissing() {
  if (spawnSync('sh', ['-c', 'command -v nginx'], { stdio: 'ignore' }).status !== 0) {
    return 'nginx is not installed (Debian: apt-get install nginx libnginx-mod-http-lua)';
  }
  if (!nginxModules()) return `lua-nginx-module is not installed in ${MODULE_DIRS.join(' or ')} (Debian: apt-get install libnginx-mod-http-lua)`;
  return null;
}

function nginxModules() {
  return MODULE_DIRS.find((d) => existsSync(path.join(d, 'ngx_http_lua_module.so')) && existsSync(path.join(d, 'ndk_http_module.so')));
}

export async function startNginx() {
  const why = nginxMissing();
  if (why) return { name: 'nginx+lua', skipped: why };
  return launch('nginx', (port, dir) => {
    const conf = path.join(dir, 'nginx.conf');
    writeFileSync(conf, fill('nginx-lua.conf', { PORT: String(port), PREFIX: dir, MODULES: nginxModules() }));
    return spawnTracked('nginx', ['-p', `${dir}/`, '-c', conf, '-e', path.join(dir, 'error.log')]);
  });
}
