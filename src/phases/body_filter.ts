// The body filter: body_filter_by_js_* runs on every chunk (one per ngx.print/ngx.say, then an
// empty one with eof) with ngx.arg[1] = chunk and ngx.arg[2] = eof; it may replace the chunk or
// set eof to cut the body. An error aborts the response, as in OpenResty.

import type { LocationConf } from '../config/types.js';
import { CTX } from '../request/context.js';
import type { BodyStep } from '../request/pipe.js';
import { bodyFilterCall } from './invoke.js';
import type { BuildCtx, PhaseModule } from './phase.js';

export const bodyFilterPhase: PhaseModule<BodyStep> = {
  name: 'body_filter',
  bit: CTX.body_filter,
  async build(loc: LocationConf, b: BuildCtx): Promise<BodyStep | null> {
    const spec = loc.handlers.body_filter;
    if (!spec) return null;
    const h = await b.loader.load(spec, loc.jsCodeCache);
    return (r, arg) => {
      const prevArg = r.arg;
      r.arg = arg;
      const rc = bodyFilterCall(r, h);
      if (typeof rc === 'number') { r.arg = prevArg; return rc; }
      return rc.then((v) => { r.arg = prevArg; return v; });
    };
  },
};
