// The access phase: access_by_js_* for the location (or the one inherited from an outer block).
// ngx.exit(status >= 200) ends the request here; ngx.exit(ngx.OK) goes on to the next phase.

import type { LocationConf } from '../config/types.js';
import { CTX } from '../request/context.js';
import { handlerStep } from './invoke.js';
import type { BuildCtx, PhaseModule, Step } from './phase.js';

export const accessPhase: PhaseModule<Step> = {
  name: 'access',
  bit: CTX.access,
  async build(loc: LocationConf, b: BuildCtx): Promise<Step | null> {
    const spec = loc.handlers.access;
    if (!spec) return null;
    return handlerStep(await b.loader.load(spec, loc.jsCodeCache), CTX.access);
  },
};
