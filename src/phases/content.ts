// The content phase: content_by_js_* for the location, else the static file module (root +
// index, autoindex), as nginx's default content handler; stub_status where the location asks.

import type { LocationConf } from '../config/types.js';
import { CTX } from '../request/context.js';
import { handlerStep } from './invoke.js';
import type { BuildCtx, PhaseModule, Step } from './phase.js';
import { proxyContent } from './proxy.js';
import { staticStep } from './static.js';
import { stubStatusStep } from './stub-status.js';

export const contentPhase: PhaseModule<Step> = {
  name: 'content',
  bit: CTX.content,
  async build(loc: LocationConf, b: BuildCtx): Promise<Step | null> {
    // proxy_pass is this location's own content handler (gateway, issue 14).
    const proxied = await proxyContent(loc, b);
    if (proxied !== null) return proxied;
    const spec = loc.handlers.content;
    if (!spec && loc.files.stubStatus) return stubStatusStep();
    if (!spec) return staticStep(loc, b.conf.prefix, b.conf.http?.mimeTypes);
    return handlerStep(await b.loader.load(spec, loc.jsCodeCache), CTX.content);
  },
};
