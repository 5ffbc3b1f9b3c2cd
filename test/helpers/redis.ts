// A real redis-server for tests (Debian's; .ci/run installs it), on a free port, with no
// persistence. REDIS_BIN is '' when it is not installed: tests skip with the reason.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

export const REDIS_BIN = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
export const NO_REDIS = REDIS_BIN ? '' : ' (skipped: redis-server is not installed; .ci/run installs it)';

export class RedisServer {
  private proc: ChildProcess | null = null;
  constructor(readonly port: number) {}

  /** Starts it; resolves once it accepts connections. */
  start(): Promise<void> {
    const p = spawn(REDIS_BIN, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      p.stdout!.on('data', (d: Buffer) => {
        out += d;
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      p.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
    });
  }

  /** SIGSTOP / SIGCONT: a Redis that hangs. */
  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    this.proc?.kill(sig);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGCONT');
    p.kill('SIGTERM');
    await gone;
  }
}
