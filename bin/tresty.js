#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('tresty: not built yet; run "npm install" (or "npm run build") in the tresty folder first\n');
  process.exit(1);
}
await import(main);
