// The package's own build, run by `npm install` and `npm test`: compile the TypeScript,
// then the native parts. A missing tool is a clear message, never a stack trace.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const quiet = process.argv.includes('--quiet');

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit' });
  if (r.error) {
    console.error(`tresty build: ${what} failed to start: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`tresty build: ${what} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  console.error('tresty build: TypeScript is not installed; run "npm install" first');
  process.exit(1);
}
run(process.execPath, [tsc, '-p', 'tsconfig.json'], 'TypeScript compile');

if (!existsSync(path.join(root, 'native', 'Makefile'))) process.exit(0);
if (!have('make') || !(have('cc') || have('gcc'))) {
  console.warn('tresty build: make or a C compiler is missing: the native HTTP engine and the FFI plugins are not built, tresty serves HTTP on node:http (Debian: apt-get install build-essential, then "npm run build")');
  process.exit(0);
}
// The engine and js_shared_dict's addon compile against Node's own headers (no node-gyp): those
// of this node (official builds, nvm), else where Debian's packages put them. Without them make
// says so in one line (native/engine/engine.mk) and builds the rest.
const nodeInclude = [path.resolve(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node']
  .find((d) => existsSync(path.join(d, 'node_api.h'))) ?? '';
// make's default CC is cc; a machine may have gcc alone.
const cc = (process.env.CC || have('cc')) ? [] : ['CC=gcc'];
run('make', ['-s', '-C', 'native', `NODE_INC=${nodeInclude}`, ...cc], 'native build (make -C native)');
