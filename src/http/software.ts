// server_tokens: the name tresty gives itself in the Server header and at the foot of its error
// pages, on every engine. `off` (tresty's default) says "tresty"; `on`/`build` add the version,
// as nginx's "nginx/1.22.1". The worker's name is the http level's, set at start; an answer
// whose location says otherwise names itself with softwareFor (request/output.ts).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let name = 'tresty';
let full = '';

/** "tresty" or "tresty/VERSION". */
export function software(): string {
  return name;
}

/** The name for server_tokens `on` (true) or `off`. */
export function softwareFor(on: boolean): string {
  if (!on) return 'tresty';
  if (full === '') full = `tresty/${packageVersion()}`;
  return full;
}

export function setServerTokens(on: boolean): void {
  name = softwareFor(on);
}

/** The version in tresty's package.json (from dist/src/http or src/http). */
function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj)) {
      const p = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string; version?: string };
      if (p.name === 'tresty') return p.version ?? 'unknown';
    }
    const up = path.dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}
