// The native engine's build follows OpenSSL's headers: an engine built while they were missing
// (npm install before apt-get install libssl-dev) gets TLS on the next build, though the headers
// keep their package dates; unchanged headers rebuild nothing. Without Node's headers, one line says
// what to install.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/server.js';
import { noCompiler } from './helpers/native-http.js';
import { withTempDir } from './helpers/temp-dir.js';

const NODE_INC = [path.resolve(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node']
  .find((d) => fs.existsSync(path.join(d, 'node_api.h')));
const TLS = ['/usr/include/openssl/ssl.h', `${NODE_INC}/openssl/ssl.h`].some((f) => fs.existsSync(f));
const skip = noCompiler() ?? (NODE_INC ? null : 'Node\'s headers (node_api.h) not found')
  ?? (TLS ? null : 'no OpenSSL headers here (apt-get install libssl-dev)');

/** `make engine` into build; TLS_INC= acts as a machine without OpenSSL's headers. */
function make(build: string, noTls: boolean): string {
  return execFileSync('make', ['-s', '-C', path.join(ROOT, 'native'), 'engine', `BUILD=${build}`, `NODE_INC=${NODE_INC}`,
    ...(noTls ? ['TLS_INC='] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The addon's own answer, from a fresh process (one addon path per process). */
function tlsBuilt(addon: string): boolean {
  const r = spawnSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(addon)}).tlsBuilt()))`], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout === 'true';
}

describe.skipIf(skip !== null)('the native engine\'s build', () => {
  if (skip) it.skip(`skipped: ${skip}`, () => {});

  it('says what to install without OpenSSL\'s headers, gets TLS once they appear, then rebuilds nothing', () => {
    withTempDir('tresty-engine-build-', (dir) => {
      const addon = path.join(dir, 'tresty_engine.node');
      const out = make(dir, true);
      expect(out).toMatch(/OpenSSL 3's headers not found.*apt-get install libssl-dev/);
      expect(out.trim().split('\n')).toHaveLength(1);
      expect(tlsBuilt(addon)).toBe(false);

      expect(make(dir, false)).toBe('');
      expect(tlsBuilt(addon)).toBe(true);

      const before = fs.statSync(addon).mtimeMs;
      expect(make(dir, false)).toBe('');
      expect(fs.statSync(addon).mtimeMs).toBe(before);
    });
  }, 120_000);

  it('says in one line what to install without Node\'s headers, builds neither addon, and exits 0', () => {
    withTempDir('tresty-engine-build-', (dir) => {
      const r = spawnSync('make', ['-s', '-C', path.join(ROOT, 'native'), 'engine', 'shdict', `BUILD=${dir}`, 'NODE_INC='], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^tresty build: Node's headers \(node_api\.h\) not found: the native HTTP engine and js_shared_dict are not built, .*apt-get install libnode-dev.*"npm run build"\n$/);
      expect(fs.existsSync(path.join(dir, 'tresty_engine.node'))).toBe(false);
      expect(fs.existsSync(path.join(dir, 'tresty_shdict.node'))).toBe(false);
      expect(fs.existsSync(path.join(dir, 'libtresty_shdict.so'))).toBe(true);

      // Found (make alone, as scripts/build.mjs does): js_shared_dict's addon is built with the engine.
      make(dir, false);
      expect(fs.existsSync(path.join(dir, 'tresty_engine.node'))).toBe(true);
      execFileSync('make', ['-s', '-C', path.join(ROOT, 'native'), 'shdict', `BUILD=${dir}`], { stdio: 'pipe' });
      expect(fs.existsSync(path.join(dir, 'tresty_shdict.node'))).toBe(true);
    });
  }, 120_000);
});
