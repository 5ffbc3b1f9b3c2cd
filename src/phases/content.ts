// The content phase: content_by_js_* for the location, else the static file module (root +
// index), as nginx's default content handler.

import type { LocationConf } from '../config/types.js';
import { CTX } from '../request/context.js';
import { handlerStep } from './invoke.js';
import type { BuildCtx, PhaseModule, Step } from './phase.js';
import { proxyContent } from './proxy.js';
import { staticStep } from './static.js';

export const contentPhase: PhaseModule<Step> = {
  name: 'content',
  bit: CTX.content,
  async build(loc: LocationConf, b: BuildCtx): Promise<Step | null> {
    // proxy_pass is this location's own content handler (gateway, issue 14).
    const proxied = await proxyContent(loc, b);
    if (proxied !== null) return proxied;
    const spec = loc.handlers.content;
    if (!spec) return staticStep(loc, b.conf.prefix, b.conf.http?.mimeTypes);
    return handlerStep(await b.loader.load(spec, loc.jsCodeCache), CTX.content);
  },
};
