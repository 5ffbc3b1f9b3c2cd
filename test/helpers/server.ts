// Start the real `bin/tresty.js` in a temporary prefix and talk to it. Shared by every
// integration test: free ports (ports.ts), a prefix with a conf (and any other files), waiting on the
// master's events (never on sleeps), plain HTTP requests, and a cleanup that always kills.
//
//   const port = await freePort();
//   const t = await startTresty(`events {} http { server { listen 127.0.0.1:${port}; location / { return 200 "hi"; } } }`);
//   const r = await httpGet(port, '/');          // { status, headers, body }
//   await t.stop();                              // or stopAll() in afterAll
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export { freePort } from './ports.js'; // a port for a server started later (ports.ts says why not listen(0))

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'tresty.js');

/** An event the master reports over IPC (src/master/protocol.ts MasterEvent). */
export interface MasterEvent { tresty: string; receivedAt?: number; [k: string]: unknown }

/** A fresh prefix: conf/nginx.conf with `conf`, logs/, and `files` (paths relative to the prefix). */
export function makePrefix(conf: string, files: Record<string, string> = {}): string {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-test-'));
  fs.mkdirSync(path.join(prefix, 'conf'));
  fs.mkdirSync(path.join(prefix, 'logs'));
  fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'), conf);
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(prefix, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  }
  return prefix;
}

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Runs `tresty ARGS` to completion (for -t, -T, -s, -v ...). */
export function runTresty(
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = opts.env ? { ...process.env, ...opts.env } : undefined;
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tresty ${args.join(' ')} did not exit within ${opts.timeoutMs ?? 10_000} ms; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 10_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export class TrestyProcess {
  readonly events: MasterEvent[] = [];
  stderr = '';
  stdout = '';
  private waiters: { pred: (e: MasterEvent) => boolean; resolve: (e: MasterEvent) => void }[] = [];
  /** Every worker pid seen, so that cleanup can kill strays too. */
  readonly workerPids = new Set<number>();
  readonly exited: Promise<number | null>;

  constructor(readonly prefix: string, readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => { this.stdout += d; });
    child.stderr?.on('data', (d: Buffer) => { this.stderr += d; });
    child.on('message', (m: MasterEvent) => {
      if (m.tresty === 'worker-spawn') this.workerPids.add(m.pid as number);
      m.receivedAt = Date.now();
      this.events.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  get pid(): number { return this.child.pid!; }
  get confPath(): string { return path.join(this.prefix, 'conf', 'nginx.conf'); }

  /** The next master event matching `pred` (from now on, or already seen when `past` is true). */
  waitFor(pred: (e: MasterEvent) => boolean, opts: { timeoutMs?: number; past?: boolean } = {}): Promise<MasterEvent> {
    if (opts.past) {
      const seen = this.events.find(pred);
      if (seen) return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no matching master event within ${opts.timeoutMs ?? 10_000} ms; seen: `
          + `${JSON.stringify(this.events)}\nstderr: ${this.stderr}\nerror.log: ${this.errorLog()}`));
      }, opts.timeoutMs ?? 10_000);
      const done = (e: MasterEvent): void => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  /** Replaces conf/nginx.conf (then `signal('SIGHUP')` or `cli(['-s', 'reload'])`). */
  writeConf(conf: string): void {
    fs.writeFileSync(this.confPath, conf);
  }

  /** Runs the CLI against this prefix: `t.cli(['-s', 'reload'])`. */
  cli(args: string[]): Promise<CliResult> {
    return runTresty(['-p', this.prefix, ...args]);
  }

  errorLog(): string {
    try {
      return fs.readFileSync(path.join(this.prefix, 'logs', 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Fast stop (TERM), then SIGKILL for anything still alive; removes the prefix. */
  async stop(opts: { keepPrefix?: boolean } = {}): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    for (const pid of this.workerPids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    running.delete(this);
    if (!opts.keepPrefix) fs.rmSync(this.prefix, { recursive: true, force: true });
  }
}

const running = new Set<TrestyProcess>();

export interface StartOptions {
  files?: Record<string, string>;
  /** Extra command-line arguments (e.g. ['-g', 'worker_processes 1;']). */
  args?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** A conf of one worker, no access log and one server on 127.0.0.1:`port` with `body` in it;
 *  `listen` goes after the address (` ssl http2`), `http` after the server (more servers). */
export function oneServerConf(port: number, body: string, more: { listen?: string; http?: string } = {}): string {
  return `worker_processes 1;\nevents {}\nhttp {\n  access_log off;\n  server {\n    listen 127.0.0.1:${port}${more.listen ?? ''};\n${body}\n  }\n${more.http ?? ''}\n}\n`;
}

/**
 * Starts tresty on `conf` in a fresh prefix; resolves once the master reports its workers ready.
 * The conf must keep the master in the foreground (tresty's default; not `daemon on;`, for which
 * use runTresty and the pid file).
 */
export async function startTresty(conf: string, opts: StartOptions = {}): Promise<TrestyProcess> {
  const prefix = makePrefix(conf, opts.files);
  const child = spawn(process.execPath, [BIN, '-p', prefix, '-c', 'conf/nginx.conf', ...(opts.args ?? [])], {
    cwd: prefix,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...opts.env },
  });
  const t = new TrestyProcess(prefix, child);
  running.add(t);
  const ready = t.waitFor((e) => e.tresty === 'ready' || e.tresty === 'start-failed', { timeoutMs: opts.timeoutMs ?? 20_000 });
  const exit = t.exited.then((code) => { throw new Error(`tresty exited (code ${code}) before it was ready: ${t.stderr}`); });
  try {
    const e = await Promise.race([ready, exit]);
    if (e.tresty === 'start-failed') throw new Error(`tresty failed to start: ${String(e.message)}`);
  } catch (err) {
    await t.stop();
    throw err;
  }
  return t;
}

/** The HTTP engine a started tresty serves with, as its master reported it when ready. */
export function engineOf(t: TrestyProcess): 'native' | 'node' {
  const ready = t.events.find((e) => e.tresty === 'ready');
  return ready?.engine === 'native' ? 'native' : 'node';
}

/** Stops every tresty this file started (for afterAll/afterEach, even after a failure). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((t) => t.stop()));
}

export interface HttpResult { status: number; headers: http.IncomingHttpHeaders; body: string }

/** One request on a fresh connection (no keep-alive, so each may land on any worker), or on `agent`'s. */
export function httpGet(port: number, urlPath = '/', opts: { host?: string; headers?: Record<string, string>; method?: string; body?: string; keepAlive?: boolean; timeoutMs?: number; agent?: http.Agent } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: opts.host ?? '127.0.0.1', port, path: urlPath, method: opts.method ?? 'GET',
      headers: opts.headers, agent: opts.agent ?? (opts.keepAlive ? undefined : false),
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // A hung request is a failure with a message, not a test timeout.
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`no answer to ${opts.method ?? 'GET'} ${urlPath} within ${opts.timeoutMs ?? 10_000} ms`)));
    req.end(opts.body);
  });
}

/** GET path on a connection of its own; resolves `started` at the first chunk of the body and
 *  `done` with the whole body (a request whose answer is still being written when a test acts). */
export function slowGet(port: number, urlPath: string): { started: Promise<void>; done: Promise<string> } {
  let onStart!: () => void;
  const started = new Promise<void>((r) => { onStart = r; });
  const done = new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; onStart(); });
      res.on('end', () => resolve(body));
      res.on('error', reject);
    }).on('error', reject);
  });
  return { started, done };
}
