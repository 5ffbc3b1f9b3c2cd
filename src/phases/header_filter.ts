// The header filter: header_filter_by_js_* runs once, just before the status and headers are
// handed to the client; it may change ngx.status and ngx.header. ngx.exit(status) there replaces
// the answer (a page for an error status, an empty body for 2xx); an error aborts the response.

import type { LocationConf } from '../config/types.js';
import { CTX } from '../request/context.js';
import type { HeaderStep } from '../request/pipe.js';
import { headerFilterCall } from './invoke.js';
import type { BuildCtx, PhaseModule } from './phase.js';

export const headerFilterPhase: PhaseModule<HeaderStep> = {
  name: 'header_filter',
  bit: CTX.header_filter,
  async build(loc: LocationConf, b: BuildCtx): Promise<HeaderStep | null> {
    const spec = loc.handlers.header_filter;
    if (!spec) return null;
    const h = await b.loader.load(spec, loc.jsCodeCache);
    return (r) => headerFilterCall(r, h);
  },
};
