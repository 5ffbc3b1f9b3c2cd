// A worker with a JVM and a Python interpreter in it still obeys nginx's signals: the JVM runs
// with -Xrs and Python without its signal handlers, so SIGHUP, SIGQUIT and SIGTERM stay Node's.
// Without -Xrs the JVM would take SIGHUP/SIGTERM (exit 129/143) and SIGQUIT (a thread dump).
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD, javaSkip, pythonSkip } from './helpers/loaders.js';
import { freePort, httpGet, type MasterEvent, ROOT, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';

const skip = javaSkip() ?? pythonSkip();

function conf(port: number): string {
  return `worker_processes 2;
error_log logs/error.log info;
events {}
http {
    ffi_library_path ${BUILD};
    ffi_plugin java { library ffi_java; config "tresty.examples.Echo,init"; class_path ${BUILD}/java/tresty-examples.jar; }
    ffi_plugin py { library ffi_python3; config "tresty_examples.echo,init"; python_path ${path.join(ROOT, 'native', 'loaders', 'examples', 'python')}; }
    server {
        listen 127.0.0.1:${port};
        location = / { content_by_js_block { ngx.say(await ngx.ffi.java.call('j'), await ngx.ffi.py.call('p')) } }
    }
}
`;
}

const exitOf = (t: TrestyProcess, pid: number) =>
  t.waitFor((e) => e.tresty === 'worker-exit' && e.pid === pid, { past: true, timeoutMs: 20_000 });

// Two workers, and each killed worker replaced before the next is signalled: the pool is never
// empty, whatever the master does then.
describe.skipIf(skip)(`signals with both loaders in the workers${skip ? ` (skipped: ${skip})` : ''}`, () => {
  afterAll(stopAll);

  it('SIGHUP to a worker is ignored; reload, SIGQUIT and SIGTERM end workers with code 0', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port), { timeoutMs: 30_000 });
    const serves = async () => {
      const all = await Promise.all(Array.from({ length: 10 }, () => httpGet(port, '/')));
      all.forEach((r) => expect(r.body).toBe('jp\n'));
    };
    const [a, b] = t.events.find((e) => e.tresty === 'ready')!.workers as number[];
    await serves();

    process.kill(a!, 'SIGHUP');
    process.kill(b!, 'SIGHUP');
    await serves();
    const reloaded = t.waitFor((e) => e.tresty === 'reloaded', { timeoutMs: 30_000 });
    process.kill(t.pid, 'SIGHUP');
    const [c, d] = (await reloaded).workers as number[];
    expect(await exitOf(t, a!)).toMatchObject({ code: 0, signal: null });
    expect(await exitOf(t, b!)).toMatchObject({ code: 0, signal: null });
    await serves();

    const replaced = async (pid: number, sig: NodeJS.Signals) => {
      const next = t.waitFor((e) => e.tresty === 'worker-ready' && e.pid !== c && e.pid !== d, { timeoutMs: 30_000 });
      process.kill(pid, sig);
      expect(await exitOf(t, pid)).toMatchObject({ code: 0, signal: null });
      return (await next).pid as number;
    };
    const e = await replaced(c!, 'SIGQUIT');
    await serves();
    const f = await replaced(d!, 'SIGTERM');
    await serves();

    process.kill(t.pid, 'SIGQUIT');
    expect(await t.exited).toBe(0);
    for (const pid of [e, f]) expect(await exitOf(t, pid)).toMatchObject({ code: 0, signal: null });
    const exits = t.events.filter((m: MasterEvent) => m.tresty === 'worker-exit');
    expect(exits.map((m) => [m.code, m.signal])).toEqual(Array.from({ length: 6 }, () => [0, null]));
    const out = t.stdout + t.stderr + t.errorLog();
    expect(out).not.toMatch(/Full thread dump|fatal error has been detected|hs_err_pid|KeyboardInterrupt/);
  }, 120_000);
});
