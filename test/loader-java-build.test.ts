// The Java loader's build follows the toolchain: jnr-ffi installed after a first build (the order a
// fresh machine often takes: npm install, then apt-get) must reach libffi_java.so's baked-in
// classpath on the next build, though the jars keep their package dates; an unchanged toolchain
// rebuilds nothing. A JDK too old for the build is skipped with a line, not a failed build.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/server.js';
import { javaSkip } from './helpers/loaders.js';
import { withTempDir } from './helpers/temp-dir.js';

const JNR = '/usr/share/java';
const skip = javaSkip() ?? (fs.existsSync(path.join(JNR, 'jnr-ffi.jar')) ? null : `no ${JNR}/jnr-ffi.jar (apt-get install libjnr-ffi-java)`);

function make(build: string, jnrDir: string): void {
  execFileSync('make', ['-s', '-C', path.join(ROOT, 'native', 'loaders'), 'java', `BUILD=${build}`, `JNR_DIR=${jnrDir}`], { stdio: 'pipe' });
}

describe.skipIf(skip !== null)('the Java loader\'s build', () => {
  if (skip) it.skip(`skipped: ${skip}`, () => {});

  it('picks up jnr-ffi installed after a first build, rebuilds nothing when nothing changed, and drops it when it goes', () => {
    withTempDir('tresty-java-build-', (dir) => {
      const build = path.join(dir, 'build');
      const empty = path.join(dir, 'no-jnr');
      fs.mkdirSync(empty);
      const so = path.join(build, 'libffi_java.so');
      const info = () => JSON.parse(fs.readFileSync(path.join(build, 'java', 'build-info.json'), 'utf8')) as { jnrClassPath: string };

      make(build, empty);
      expect(info().jnrClassPath).toBe('');
      expect(fs.existsSync(path.join(build, 'java', 'tresty-examples.jar'))).toBe(false);
      expect(fs.readFileSync(so).includes('jnr-ffi.jar')).toBe(false);

      make(build, JNR);
      expect(info().jnrClassPath).toContain(`${JNR}/jnr-ffi.jar`);
      expect(fs.existsSync(path.join(build, 'java', 'tresty-examples.jar'))).toBe(true);
      expect(fs.readFileSync(so).includes(`${JNR}/jnr-ffi.jar`)).toBe(true);

      const before = fs.statSync(so).mtimeMs;
      make(build, JNR);
      expect(fs.statSync(so).mtimeMs).toBe(before);

      // jnr-ffi gone again: the loader loses its classpath, and the examples (which need it) go.
      make(build, empty);
      expect(info().jnrClassPath).toBe('');
      expect(fs.readFileSync(so).includes('jnr-ffi.jar')).toBe(false);
      expect(fs.existsSync(path.join(build, 'java', 'tresty-examples.jar'))).toBe(false);
    });
  }, 120_000);

  it('skips a JDK older than 11 (the classes are compiled with --release 11) with one line, and exits 0', () => {
    withTempDir('tresty-java-build-', (dir) => {
      // The real JDK but for javac, which says it is Java 8's.
      const real = fs.realpathSync((JSON.parse(fs.readFileSync(path.join(ROOT, 'native', 'build', 'java', 'build-info.json'), 'utf8')) as { javaHome: string }).javaHome);
      const home = path.join(dir, 'jdk');
      fs.mkdirSync(path.join(home, 'bin'), { recursive: true });
      for (const f of fs.readdirSync(real)) if (f !== 'bin') fs.symlinkSync(path.join(real, f), path.join(home, f));
      for (const f of fs.readdirSync(path.join(real, 'bin'))) if (f !== 'javac') fs.symlinkSync(path.join(real, 'bin', f), path.join(home, 'bin', f));
      fs.writeFileSync(path.join(home, 'bin', 'javac'), '#!/bin/sh\necho "javac 1.8.0_392" >&2\n', { mode: 0o755 });
      const build = path.join(dir, 'build');
      const out = execFileSync('make', ['-s', '-C', path.join(ROOT, 'native', 'loaders'), 'java', `BUILD=${build}`, `JAVA_HOME=${home}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).toBe(`${home} is not a JDK 11 or later (javac 1.8.0_392): skipping the Java loader (Debian: apt-get install default-jdk-headless; or set JAVA_HOME)\n`);
      expect(fs.existsSync(path.join(build, 'libffi_java.so'))).toBe(false);
    });
  }, 60_000);
});
