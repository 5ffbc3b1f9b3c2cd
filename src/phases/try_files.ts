// try_files, between access and content as nginx's try_files phase: the first file (or `dir/`)
// that exists under `root` (or `alias`) becomes $uri and the location's content handler serves it; if none
// does, the last argument decides: `=CODE` answers that status, `@name` or a URI is an internal
// redirect.

import fs from 'node:fs';
import type { LocationConf } from '../config/types.js';
import { CTX } from '../request/context.js';
import { EXEC, OK } from '../request/codes.js';
import type { Req } from '../request/req.js';
import type { BuildCtx, PhaseModule, Step } from './phase.js';
import { compileTemplate } from './template.js';
import { pathMapper } from './file-path.js';

export const tryFilesPhase: PhaseModule<Step> = {
  name: 'try_files',
  bit: CTX.content,
  async build(loc: LocationConf, b: BuildCtx): Promise<Step | null> {
    const spec = loc.tryFiles;
    if (spec === null) return null;
    const map = pathMapper(loc, b.conf.prefix);
    // A directory test is an argument written with a trailing slash (not one whose value ends in
    // one: `$uri` of "/sub/" is a file test, as nginx's); the slash is dropped from the name.
    const files = spec.files.map((f) => ({ dir: f.endsWith('/'), name: compileTemplate(f.endsWith('/') ? f.slice(0, -1) : f) }));
    const last = spec.fallback;
    const code = /^=\d+$/.test(last) ? Number(last.slice(1)) : null;
    const fallback = compileTemplate(last);
    return async (r) => {
      for (const { dir, name } of files) {
        const uri = name(r);
        if (await exists(map(r, uri), dir)) {
          r.uri = uri === '' ? '/' : uri;
          return OK;
        }
      }
      if (code !== null) return code;
      return redirect(r, fallback(r));
    };
  },
};

async function exists(file: string, dir: boolean): Promise<boolean> {
  try {
    const st = await fs.promises.stat(file);
    return dir ? st.isDirectory() : st.isFile();
  } catch {
    return false;
  }
}

function redirect(r: Req, target: string): number {
  r.execUri = target;
  r.execArgs = null;
  return EXEC;
}
