// How fast and how often an answer goes out: limit_rate / limit_rate_after (request/limit-rate.ts)
// and recursive_error_pages (phases/run.ts).

import type { TemplateParts } from './types-access.js';

/** What a block sets while the conf is walked (undefined: inherit). */
export interface OutputSettings {
  limitRate?: TemplateParts;
  limitRateAfter?: number;
  recursiveErrorPages?: boolean;
}

/**
 * The frozen shape on a LocationConf: only what differs from nginx's defaults (no limit, no
 * recursion), so a location that uses none of it keeps the native engine's plan (an empty object).
 */
export interface OutputConf {
  readonly limitRate?: TemplateParts;
  readonly limitRateAfter?: number;
  readonly recursiveErrorPages?: true;
}

export function outputConf(m: OutputSettings): OutputConf {
  const out: { limitRate?: TemplateParts; limitRateAfter?: number; recursiveErrorPages?: true } = {};
  const rate = m.limitRate;
  // A constant 0 is nginx's "no limit"; a template with variables is evaluated per request.
  if (rate !== undefined && !(rate.length === 1 && typeof rate[0] === 'string' && /^0+[kKmMgG]?$/.test(rate[0]))) {
    out.limitRate = rate;
  }
  // Kept without limit_rate too: ngx.var.limit_rate set by a handler starts after it.
  if (m.limitRateAfter) out.limitRateAfter = m.limitRateAfter;
  if (m.recursiveErrorPages) out.recursiveErrorPages = true;
  return out;
}
