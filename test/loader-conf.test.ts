// The loaders' side of the conf and the search path: python_path / class_path in ffi_plugin
// blocks, and a loader library that was not built names what to install.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConf } from '../src/config/index.js';
import { findLibrary } from '../src/ffi/locate.js';

function load(conf: string) {
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'tresty-loaderconf-'));
  mkdirSync(path.join(prefix, 'conf'));
  writeFileSync(path.join(prefix, 'conf', 'nginx.conf'), conf);
  try {
    return { prefix, conf: loadConf({ file: 'conf/nginx.conf', prefix }).conf };
  } catch (e) {
    rmSync(prefix, { recursive: true, force: true });
    throw e;
  }
}

describe('python_path and class_path', () => {
  it('resolve against the prefix, several arguments or ":"-separated', () => {
    const { prefix, conf } = load(`events {}
http {
  ffi_plugin py { library ffi_python3; config "m,init"; python_path py /abs/lib "a:b"; }
  ffi_plugin jv { library ffi_java; config "p.C,init"; class_path classes lib/x.jar; }
  ffi_plugin c  { library echo_c; }
}`);
    expect(conf.ffiPlugins.get('py')!.pythonPath).toEqual([`${prefix}/py`, '/abs/lib', `${prefix}/a`, `${prefix}/b`]);
    expect(conf.ffiPlugins.get('jv')!.classPath).toEqual([`${prefix}/classes`, `${prefix}/lib/x.jar`]);
    expect(conf.ffiPlugins.get('c')!.pythonPath).toBeUndefined();
    rmSync(prefix, { recursive: true, force: true });
  });

  it('belong in an ffi_plugin block, once', () => {
    expect(() => load('events {} http { python_path py; }')).toThrow(/"python_path" directive is not allowed here in \S+nginx\.conf:1/);
    expect(() => load('events {} http { ffi_plugin j { library ffi_java;\n class_path a;\n class_path b; } }'))
      .toThrow(/"class_path" directive is duplicate in \S+nginx\.conf:3/);
  });
});

describe('a loader library that is not built', () => {
  it('says what to install to build it', () => {
    expect(() => findLibrary('ffi_python3', ['/nonexistent'])).toThrow(/apt-get install python3-dev python3-cffi, then "npm run build"/);
    expect(() => findLibrary('ffi_java', ['/nonexistent'])).toThrow(/apt-get install default-jdk-headless libjnr-ffi-java/);
    expect(() => findLibrary('other', ['/nonexistent'])).not.toThrow(/apt-get/);
  });

  it('and an example runtime too (the conf/nginx.conf ones, the Go and Rust ones)', () => {
    expect(() => findLibrary('echo_go', ['/nonexistent'])).toThrow(/Go 1\.19 or later is found \(Debian: apt-get install golang-go, then "npm run build"\)\)$/);
    expect(() => findLibrary('wordfreq_rust', ['/nonexistent'])).toThrow(/when rustc is found \(rustup, or Debian: apt-get install rustc/);
    expect(() => findLibrary('libecho_c.so', ['/nonexistent'])).toThrow(/make and a C compiler \(Debian: apt-get install build-essential/);
  });
});
