// A loader built with a JDK or a libpython that has since gone (removed, or a JDK copy deleted)
// fails at load. The server says how to get a working one, and the next build, which skips the
// loader, removes it (then the server says "not found" and what to install: loader-conf's test).
// A loader that still loads is kept by a skipping build.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUILD } from './helpers/loaders.js';
import { noCompiler } from './helpers/native-http.js';
import { freePort, ROOT, startTresty, stopAll } from './helpers/server.js';
import { withTempDir } from './helpers/temp-dir.js';

const LOADERS = path.join(ROOT, 'native', 'loaders');

function make(args: string[]): string {
  return execFileSync('make', ['-s', '-C', LOADERS, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const conf = (port: number, plugin: string): string => `
worker_processes 1;
error_log logs/error.log notice;
http {
  ${plugin}
  server { listen 127.0.0.1:${port}; location / { return 204; } }
}
`;

/** The start's error: the plugin's conf line is 5. */
async function startError(build: string, plugin: string): Promise<string> {
  try {
    await startTresty(conf(await freePort(), plugin), { env: { TRESTY_FFI_PATH: build } });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('tresty started');
}

afterEach(async () => { await stopAll(); });

const jdk = (() => {
  try {
    const home = (JSON.parse(fs.readFileSync(path.join(BUILD, 'java', 'build-info.json'), 'utf8')) as { javaHome: string }).javaHome;
    return fs.existsSync(path.join(home, 'bin', 'javac')) ? fs.realpathSync(home) : null;
  } catch {
    return null;
  }
})();

describe.skipIf(jdk === null || noCompiler() !== null)('a Java loader whose JDK is gone', () => {
  it('is named at load with what to do, then removed by the next build', async () => {
    await withTempDir('tresty-loader-gone-', async (dir) => {
      // A JDK that can go away: links to every part of the real one.
      const home = path.join(dir, 'jdk');
      fs.mkdirSync(home);
      for (const f of fs.readdirSync(jdk!)) fs.symlinkSync(path.join(jdk!, f), path.join(home, f));
      const build = path.join(dir, 'build');
      const so = path.join(build, 'libffi_java.so');
      make(['java', `BUILD=${build}`, `JAVA_HOME=${home}`]);
      expect(fs.existsSync(so)).toBe(true);

      // Skipped while the loader still loads: kept.
      expect(make(['java', `BUILD=${build}`, 'JAVA_HOME='])).toMatch(/^no JDK found: skipping the Java loader \(Debian: apt-get install default-jdk-headless; or set JAVA_HOME\)\n$/);
      expect(fs.existsSync(so)).toBe(true);

      fs.rmSync(home, { recursive: true });
      const plugin = 'ffi_plugin jv { library ffi_java; config "tresty.examples.Echo,init"; }';
      expect(await startError(build, plugin)).toMatch(
        /cannot be loaded: .*libjvm\.so: cannot open shared object file.*apt-get install default-jdk-headless libjnr-ffi-java, then "npm run build".* in \S+nginx\.conf:5/);

      make(['java', `BUILD=${build}`, 'JAVA_HOME=']);
      expect(fs.existsSync(so)).toBe(false);
      expect(fs.readdirSync(path.join(build, 'java'))).toEqual([]);
    });
  }, 120_000);
});

const python = ['/usr/bin/python3'].find((p) => fs.existsSync(p));
const pyInclude = python ? execFileSync(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["include"])'], { encoding: 'utf8' }).trim() : '';
const pySkip = noCompiler() ?? (python && fs.existsSync(path.join(pyInclude, 'Python.h')) ? null : 'no /usr/bin/python3 with Python.h');

describe.skipIf(pySkip !== null)('a Python loader whose libpython is gone', () => {
  it('is named at load with what to do, then removed by the next build', async () => {
    await withTempDir('tresty-loader-gone-', async (dir) => {
      // An interpreter whose libpython can go away: the real one's answers, but for a stand-in
      // library (a loader links it like any libpython; loading it is where it fails).
      const lib = path.join(dir, 'lib');
      fs.mkdirSync(lib);
      fs.writeFileSync(path.join(lib, 'stub.c'), 'int tresty_gone_stub;\n');
      execFileSync('cc', ['-shared', '-fPIC', '-Wl,-soname,libtresty_gone.so', '-o', path.join(lib, 'libtresty_gone.so'), path.join(lib, 'stub.c')]);
      const py = path.join(dir, 'python3');
      fs.writeFileSync(py, `#!/bin/sh\n${python} "$@" | sed -e 's|^PY_LIBDIR := .*|PY_LIBDIR := ${lib}|' -e 's|^PY_LIB := .*|PY_LIB := tresty_gone|'\n`, { mode: 0o755 });
      const build = path.join(dir, 'build');
      const so = path.join(build, 'libffi_python3.so');
      // (--no-as-needed: the stand-in defines none of the Py* symbols, and it must stay a dependency.)
      make(['python', `BUILD=${build}`, `TRESTY_PYTHON=${py}`, 'CFLAGS=-O2 -Wl,--no-as-needed']);
      expect(fs.existsSync(so)).toBe(true);

      const gone = path.join(dir, 'nonexistent-python3');
      expect(make(['python', `BUILD=${build}`, `TRESTY_PYTHON=${gone}`])).toMatch(/^\S+nonexistent-python3 did not run: skipping the Python loader/);
      expect(fs.existsSync(so)).toBe(true);

      fs.rmSync(lib, { recursive: true });
      const plugin = 'ffi_plugin py { library ffi_python3; config "m,init"; }';
      expect(await startError(build, plugin)).toMatch(
        /cannot be loaded: .*libtresty_gone\.so: cannot open shared object file.*apt-get install python3-dev python3-cffi, then "npm run build".* in \S+nginx\.conf:5/);

      make(['python', `BUILD=${build}`, `TRESTY_PYTHON=${gone}`]);
      expect(fs.existsSync(so)).toBe(false);

      // The real interpreter again: a loader linked with its libpython, which the next build keeps.
      make(['python', `BUILD=${build}`, `TRESTY_PYTHON=${python}`]);
      expect(fs.readFileSync(so).includes('libtresty_gone.so')).toBe(false);
      const before = fs.statSync(so).mtimeMs;
      make(['python', `BUILD=${build}`, `TRESTY_PYTHON=${python}`]);
      expect(fs.statSync(so).mtimeMs).toBe(before);
    });
  }, 120_000);
});
