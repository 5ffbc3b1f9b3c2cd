// The header filter: header_filter_by_js_* runs once, just before the status and headers are
// handed to the client; it may change ngx.status and ngx.header. Errors are logged only.

import type { LocationConf } from '../config/types.js';
import { CTX } from '../request/context.js';
import { sideCall } from './invoke.js';
import type { BuildCtx, PhaseModule, SideStep } from './phase.js';

export const headerFilterPhase: PhaseModule<SideStep> = {
  name: 'header_filter',
  bit: CTX.header_filter,
  async build(loc: LocationConf, b: BuildCtx): Promise<SideStep | null> {
    const spec = loc.handlers.header_filter;
    if (!spec) return null;
    const h = await b.loader.load(spec, loc.jsCodeCache);
    return (r) => {
      // Filters run inside the content handler's flushes: give its context back afterwards.
      const prev = r.phase;
      const p = sideCall(r, h, CTX.header_filter);
      if (p === undefined) { r.phase = prev; return undefined; }
      return p.then(() => { r.phase = prev; });
    };
  },
};
