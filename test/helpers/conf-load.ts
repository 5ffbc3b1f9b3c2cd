// Conf text through the real loader (src/config), for the conf tests: each conf is written to a
// fresh prefix (as `conf/nginx.conf` with `inConf`, else `nginx.conf`), loaded, and the prefix
// removed; a conf error comes back as the thrown TrestyError's code and message.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConf } from '../../src/config/index.js';
import { withTempDir } from './temp-dir.js';

export interface LoadOptions {
  /** Put the conf in `conf/` under the prefix, as the shipped layout does (relative includes). */
  inConf?: boolean;
}

export function loadConfText(conf: string, opts: LoadOptions = {}): ReturnType<typeof loadConf>['conf'] {
  return withTempDir('tresty-conf-', (dir) => {
    const file = opts.inConf ? 'conf/nginx.conf' : 'nginx.conf';
    if (opts.inConf) mkdirSync(path.join(dir, 'conf'));
    writeFileSync(path.join(dir, file), conf);
    return loadConf({ file, prefix: dir }).conf;
  });
}

export function confErrorOf(conf: string, opts: LoadOptions = {}): { code: string; message: string } {
  try {
    loadConfText(conf, opts);
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('expected a conf error');
}

/** An http block with one server on 127.0.0.1:8080 holding `body`, `http` before the server. */
export const serverConf = (body: string, http = ''): string =>
  `events {} http { ${http}\nserver { listen 127.0.0.1:8080;\n${body}\n} }`;
