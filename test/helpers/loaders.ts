// What the loader tests share: whether the Python and Java loaders were built here (and why not),
// and a location that loads a plugin from a handler and reports the answers or the error.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { type CliResult, freePort, httpGet, makePrefix, ROOT, runTresty, startTresty, type TrestyProcess } from './server.js';

export const BUILD = path.join(ROOT, 'native', 'build');

/** null when the Python loader and cffi are there; else why the tests skip. */
export function pythonSkip(): string | null {
  if (!fs.existsSync(path.join(BUILD, 'libffi_python3.so'))) {
    return 'native/build/libffi_python3.so not built: no Python headers (apt-get install python3-dev python3-cffi)';
  }
  const probe = path.join(BUILD, 'loaders', 'python-probe.mk');
  const text = fs.existsSync(probe) ? fs.readFileSync(probe, 'utf8') : '';
  if (!/^PY_CFFI := 1$/m.test(text)) return 'cffi is not installed for the loader\'s interpreter (apt-get install python3-cffi)';
  return null;
}

export interface JavaBuild { javaHome: string; jnrClassPath: string }

/** The JDK and jnr-ffi jars the Java loader was built with (native/build/java/build-info.json). */
export function javaBuild(): JavaBuild {
  return JSON.parse(fs.readFileSync(path.join(BUILD, 'java', 'build-info.json'), 'utf8')) as JavaBuild;
}

/** null when the Java loader and its examples (hence jnr-ffi) are there; else why the tests skip. */
export function javaSkip(): string | null {
  if (!fs.existsSync(path.join(BUILD, 'libffi_java.so'))) {
    return 'native/build/libffi_java.so not built: no JDK (apt-get install default-jdk-headless libjnr-ffi-java)';
  }
  if (!fs.existsSync(path.join(BUILD, 'java', 'tresty-examples.jar'))) {
    return 'the Java examples were not built: no jnr-ffi (apt-get install libjnr-ffi-java)';
  }
  return null;
}

/** `location = /load`: POST { lib, cfg, req, n?, unload?, pythonPath?, classPath? } as JSON. */
export const LOAD_LOCATION = `
    location = /load {
        content_by_js_block {
            await ngx.req.read_body();
            const q = JSON.parse(ngx.req.get_body_data());
            try {
                const p = ngx.load_ffi(q.lib, q.cfg, { pythonPath: q.pythonPath, classPath: q.classPath, timeoutMs: 20000 });
                const n = q.n ?? 1;
                const answers = await Promise.all(Array.from({ length: n }, (_, i) => p.call(n === 1 ? q.req : q.req + i)));
                if (q.unload) await p.unload();
                ngx.say(JSON.stringify({ ok: true, answers }));
            } catch (e) {
                ngx.say(JSON.stringify({ ok: false, code: e.code, message: e.message }));
            }
        }
    }`;

export interface LoadResult { ok: boolean; answers?: string[]; code?: string; message?: string }

export async function load(port: number, q: Record<string, unknown>): Promise<LoadResult> {
  const r = await httpGet(port, '/load', { method: 'POST', body: JSON.stringify(q), timeoutMs: 30_000 });
  if (r.status !== 200) throw new Error(`/load answered ${r.status}: ${r.body}`);
  return JSON.parse(r.body) as LoadResult;
}

/** Calls until `pred` holds (at most `tries` times, each after the previous answer). */
export async function until<T>(f: () => Promise<T>, pred: (v: T) => boolean, tries = 200): Promise<T> {
  let v = await f();
  for (let i = 1; i < tries && !pred(v); i++) {
    await new Promise((r) => setTimeout(r, 25));
    v = await f();
  }
  return v;
}

/** conf/examples/NAME.conf as shipped, on a free port with one worker, paths made absolute. */
export async function startExample(name: string): Promise<{ t: TrestyProcess; port: number }> {
  const port = await freePort();
  const conf = fs.readFileSync(path.join(ROOT, 'conf', 'examples', `${name}.conf`), 'utf8')
    .replaceAll('native/', `${ROOT}/native/`)
    .replace('listen 8080;', `listen 127.0.0.1:${port};`)
    .replace('worker_processes auto;', 'worker_processes 1;');
  return { t: await startTresty(conf, { timeoutMs: 30_000 }), port };
}

/** `tresty -t` and then a start of a conf whose plugin fails to load, in a prefix with `files`. */
export async function failingStart(conf: (port: number) => string, files: Record<string, string> = {}): Promise<{ test: CliResult; start: CliResult }> {
  const prefix = makePrefix(conf(await freePort()), files);
  try {
    const test = await runTresty(['-p', prefix, '-t']);
    const start = await runTresty(['-p', prefix], { timeoutMs: 30_000 });
    return { test, start };
  } finally {
    fs.rmSync(prefix, { recursive: true, force: true });
  }
}

/**
 * The two examples of a loader, 1,000 concurrent calls each through load_ffi, then the conf's
 * echo plugin (at /echo?m=) over HTTP: an empty request, bytes that are not ASCII, 100 at once.
 */
export async function checkExamples(port: number, lib: string, echo: Record<string, unknown>, digest: Record<string, unknown>): Promise<void> {
  const echoes = await load(port, { lib, ...echo, req: 'm', n: 1000 });
  expect(echoes.ok).toBe(true);
  echoes.answers!.forEach((a, i) => expect(a).toBe(`m${i}`));
  const sums = await load(port, { lib, ...digest, req: 'payload-', n: 1000 });
  expect(sums.ok).toBe(true);
  sums.answers!.forEach((a, i) => expect(a).toBe(createHash('sha256').update(`payload-${i}`).digest('hex')));
  expect((await httpGet(port, '/echo?m=h%C3%A9llo')).body).toBe('h%C3%A9llo');
  expect((await httpGet(port, '/echo')).body).toBe('');
  const many = await Promise.all(Array.from({ length: 100 }, (_, i) => httpGet(port, `/echo?m=r${i}`)));
  many.forEach((r, i) => expect(r.body).toBe(`r${i}`));
}

/**
 * A plugin at /spin?m= whose "spin" computes until "release" comes on its other thread, and whose
 * "quick" answers `quick spinning=<spinningWord>` meanwhile: while it spins, the worker serves
 * JS requests (/js) and the conf's echo plugin (/echo), and the spinning call is still pending.
 */
export async function checkBusyPluginBlocksNothing(port: number, spinningWord: string): Promise<void> {
  let spinDone = false;
  const spin = httpGet(port, '/spin?m=spin', { timeoutMs: 90_000 }).then((r) => { spinDone = true; return r; });
  const quick = await until(() => httpGet(port, '/spin?m=quick'), (r) => r.body === `quick spinning=${spinningWord}\n`);
  expect(quick.body).toBe(`quick spinning=${spinningWord}\n`);
  const js = await Promise.all(Array.from({ length: 20 }, () => httpGet(port, '/js')));
  js.forEach((r) => expect(r.status).toBe(200));
  expect((await httpGet(port, '/echo?m=meanwhile')).body).toBe('meanwhile');
  expect(spinDone).toBe(false);
  expect((await httpGet(port, '/spin?m=release')).body).toBe('released\n');
  expect((await spin).body).toBe('spun until released\n');
}
