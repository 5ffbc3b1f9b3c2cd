// The log phase, after the response is sent: log_by_js_* (errors are logged only), then the
// access log lines (log_format templates with nginx variables, `combined` by default).

import path from 'node:path';
import type { LocationConf } from '../config/types.js';
import { CTX } from '../request/context.js';
import { logCall } from './invoke.js';
import { openAccessLog, type LogWriter } from './logs.js';
import type { BuildCtx, PhaseModule, SideStep } from './phase.js';
import type { Req } from '../request/req.js';
import { compileLogTemplate, type Template } from './template.js';

const COMBINED = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

interface AccessLog { readonly w: LogWriter; readonly fmt: Template }

export const logPhase: PhaseModule<SideStep> = {
  name: 'log',
  bit: CTX.log,
  async build(loc: LocationConf, b: BuildCtx): Promise<SideStep | null> {
    const spec = loc.handlers.log;
    const h = spec ? await b.loader.load(spec, loc.jsCodeCache) : null;
    const logs = accessLogs(loc, b);
    if (h === null && logs.length === 0) return null;
    const writeLogs = (r: Req): void => {
      for (const l of logs) l.w.write(`${l.fmt(r)}\n`);
    };
    if (h === null) return (r) => { writeLogs(r); return undefined; };
    return (r) => {
      const p = logCall(r, h);
      if (p === undefined) { writeLogs(r); return undefined; }
      return p.then(() => writeLogs(r));
    };
  },
};

const templates = new Map<string, Template>();

function accessLogs(loc: LocationConf, b: BuildCtx): AccessLog[] {
  const out: AccessLog[] = [];
  for (const spec of loc.accessLog) {
    if (spec === 'off') return [];
    const text = b.conf.http?.logFormats.get(spec.format) ?? (spec.format === 'combined' ? COMBINED : spec.format);
    let fmt = templates.get(text);
    if (!fmt) { fmt = compileLogTemplate(text); templates.set(text, fmt); }
    const w = openAccessLog(spec.path === 'stderr' ? 'stderr' : path.resolve(b.conf.prefix, spec.path));
    out.push({ w, fmt });
  }
  return out;
}
