// limit_except as nginx applies it: a method the block does not name is served with the
// block's own location conf, which inherits access settings (access.ts switches those) and the
// JS rewrite handler, but not the location's rewrite-module ops, try_files or content handler:
// nginx 1.22 answers it with the static file module (content_by_lua does not run; a `return`
// does not either), except that proxy_pass carries over (the proxy module sees to it).

import type { LocationConf } from '../config/types.js';
import { OK } from '../request/codes.js';
import type { Step } from '../request/pipe.js';
import type { BuildCtx } from './phase.js';
import { staticStep } from './static.js';

/** Rewrites `steps` (script at `scriptAt`, try_files at 3, content at 4) for limit_except. */
export function applyLimitExcept(loc: LocationConf, steps: Array<Step | null>, scriptAt: number, b: BuildCtx): void {
  const le = loc.limitExcept;
  if (le === null) return;
  const named = new Set(le.methods);
  const only = (step: Step | null, other: Step | null): Step | null => {
    if (step === null && other === null) return null;
    return (r) => {
      const s = named.has(r.method) ? step : other;
      return s === null ? OK : s(r);
    };
  };
  steps[scriptAt] = only(steps[scriptAt], null);
  steps[3] = only(steps[3], null);
  if (loc.proxy.pass === null) steps[4] = only(steps[4], staticStep(loc, b.conf.prefix, b.conf.http?.mimeTypes));
}
