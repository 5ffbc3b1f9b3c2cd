// Starts the servers bench/http.mjs compares, each on a free 127.0.0.1 port, in a temp prefix,
// tracked for cleanup: tresty (conf/bench/tresty.conf), bare node:http in node:cluster
// (bench/servers/node-cluster.mjs) and nginx + lua-nginx-module (conf/bench/nginx-lua.conf).
// Each resolves { name, url(path), stop() } or, for nginx when it cannot run here, { skipped }.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitForHttp } from './net.mjs';
import { spawnPinned } from './percore.mjs';
import { dropDir, spawnTracked, tempDir } from './procs.mjs';
import { ROOT } from './tresty-dist.mjs';

const CONF = path.join(ROOT, 'conf', 'bench');
const MODULE_DIRS = ['/usr/lib/nginx/modules', '/usr/share/nginx/modules', '/usr/lib64/nginx/modules'];

function fill(template, vars, workers) {
  let text = readFileSync(path.join(CONF, template), 'utf8');
  for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`__${k}__`, v);
  // Per core: one worker (the templates say `auto`).
  if (workers) text = text.replace('worker_processes auto;', `worker_processes ${workers};`);
  return text;
}

/** The 1 KB file the static test asks for (/static/1k.txt), under dir/html. */
export const STATIC_FILE = '/static/1k.txt';
export const STATIC_BODY = `${'0123456789abcdef'.repeat(63)}0123456789abcd\n`; // 1,024 bytes
function staticFiles(dir) {
  mkdirSync(path.join(dir, 'html', 'static'), { recursive: true });
  writeFileSync(path.join(dir, 'html', 'static', '1k.txt'), STATIC_BODY);
  // nginx started as root serves as `nobody`: the temp prefix (0700) must be readable.
  chmodSync(dir, 0o755);
}

/** spawnTracked, or pinned to a core (per-core mode: `core` set). */
function spawnOn(core, cmd, args, opts) {
  return core === undefined ? spawnTracked(cmd, args, opts) : spawnPinned(core, cmd, args, opts);
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
        name, port, pid: proc.child.pid,
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

/**
 * tresty on conf/bench/tresty.conf. engine: 'node' adds `http_engine node;` (else the default,
 * native when built); workers/core: per-core mode (N workers, the whole process tree on `core`);
 * pinned: `worker_cpu_affinity auto;` (each worker and its threads on a CPU of its own);
 * pollersNext: that and `ffi_poller_cpu_affinity next;` (each worker's pollers on the next one's CPU);
 * pollersFifo: that and `ffi_poller_sched fifo;` (each worker's pollers real-time on its CPU).
 */
export function startTresty({ udsSocket, engine, workers, core, pinned = false, pollersNext = false, pollersFifo = false } = {}) {
  const bin = path.join(ROOT, 'bin', 'tresty.js');
  return launch(engine === 'node' ? 'tresty-node' : 'tresty', (port, dir) => {
    mkdirSync(path.join(dir, 'logs'));
    mkdirSync(path.join(dir, 'conf'));
    staticFiles(dir);
    const conf = path.join(dir, 'conf', 'tresty.conf');
    const vars = { PORT: String(port), ROOT, UDS: udsSocket ?? path.join(dir, 'no-uds.sock'), ENGINE: engine === 'node' ? 'http_engine node;' : '' };
    let text = fill('tresty.conf', vars, workers);
    const extra = pollersNext ? '\nffi_poller_cpu_affinity next;' : pollersFifo ? '\nffi_poller_sched fifo;' : '';
    if (pinned || extra) text = text.replace(/^(worker_processes [^;]+;)$/m, `$1\nworker_cpu_affinity auto;${extra}`);
    writeFileSync(conf, text);
    return spawnOn(core, process.execPath, [bin, '-p', dir, '-c', conf], { cwd: dir });
  });
}

export function startNodeCluster({ workers, core }) {
  const script = path.join(ROOT, 'bench', 'servers', 'node-cluster.mjs');
  return launch('node-cluster', (port) => spawnOn(core, process.execPath, [script], {
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

export function nginxModules() {
  return MODULE_DIRS.find((d) => existsSync(path.join(d, 'ngx_http_lua_module.so')) && existsSync(path.join(d, 'ndk_http_module.so')));
}

export async function startNginx({ workers, core } = {}) {
  const why = nginxMissing();
  if (why) return { name: 'nginx+lua', skipped: why };
  return launch('nginx', (port, dir) => {
    const conf = path.join(dir, 'nginx.conf');
    staticFiles(dir);
    writeFileSync(conf, fill('nginx-lua.conf', { PORT: String(port), PREFIX: dir, MODULES: nginxModules() }, workers));
    return spawnOn(core, 'nginx', ['-p', `${dir}/`, '-c', conf, '-e', path.join(dir, 'error.log')]);
  });
}
