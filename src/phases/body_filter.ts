// The body filter: body_filter_by_js_* runs on every chunk with ngx.arg[1] = chunk and
// ngx.arg[2] = eof; it may replace the chunk or set eof to cut the body. Errors are logged only.

import type { LocationConf } from '../config/types.js';
import { CTX } from '../request/context.js';
import { sideCall } from './invoke.js';
import type { BodyStep, BuildCtx, PhaseModule } from './phase.js';

export const bodyFilterPhase: PhaseModule<BodyStep> = {
  name: 'body_filter',
  bit: CTX.body_filter,
  async build(loc: LocationConf, b: BuildCtx): Promise<BodyStep | null> {
    const spec = loc.handlers.body_filter;
    if (!spec) return null;
    const h = await b.loader.load(spec, loc.jsCodeCache);
    return (r, arg) => {
      const prev = r.phase;
      const prevArg = r.arg;
      r.arg = arg;
      const p = sideCall(r, h, CTX.body_filter);
      const restore = (): void => { r.phase = prev; r.arg = prevArg; };
      if (p === undefined) { restore(); return undefined; }
      return p.then(restore);
    };
  },
};
