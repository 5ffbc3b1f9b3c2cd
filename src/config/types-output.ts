// How fast and how often an answer goes out: limit_rate / limit_rate_after (request/limit-rate.ts)
// and recursive_error_pages (phases/run.ts); and the userid module's cookie (api/userid.ts), a
// header filter too, whose directives inherit one by one as these do.

import type { TemplateParts } from './types-access.js';

/** What a block sets while the conf is walked (undefined: inherit). */
export interface OutputSettings {
  limitRate?: TemplateParts;
  limitRateAfter?: number;
  recursiveErrorPages?: boolean;
  useridMode?: UseridMode;
  useridService?: number;
  useridName?: string;
  useridDomain?: string;
  useridPath?: string;
  /** Seconds; 0: a session cookie; USERID_MAX_EXPIRES: `max`. */
  useridExpires?: number;
  useridP3p?: string;
  /** '' for off. */
  useridMark?: string;
  /** The attributes after the path: `; secure; httponly; samesite=lax`. */
  useridFlags?: string;
}

export type UseridMode = 'off' | 'log' | 'v1' | 'on';

/** nginx's `userid_expires max`: 31 Dec 2037 23:55:55 GMT. */
export const USERID_MAX_EXPIRES = 2145916555;

/** The userid module's settings of a location where it is not off (nginx's defaults filled in). */
export interface UseridConf {
  readonly mode: Exclude<UseridMode, 'off'>;
  /** null: unset (v1: 0; v2: the local address). */
  readonly service: number | null;
  readonly name: string;
  /** `; domain=D` or ''. */
  readonly domain: string;
  /** `; path=P`. */
  readonly path: string;
  readonly expires: number;
  readonly p3p: string;
  readonly mark: string;
  readonly flags: string;
}

/**
 * The frozen shape on a LocationConf: only what differs from nginx's defaults (no limit, no
 * recursion), so a location that uses none of it keeps the native engine's plan (an empty object).
 */
export interface OutputConf {
  readonly limitRate?: TemplateParts;
  readonly limitRateAfter?: number;
  readonly recursiveErrorPages?: true;
  readonly userid?: UseridConf;
}

export function outputConf(m: OutputSettings): OutputConf {
  const out: { limitRate?: TemplateParts; limitRateAfter?: number; recursiveErrorPages?: true; userid?: UseridConf } = {};
  const rate = m.limitRate;
  // A constant 0 is nginx's "no limit"; a template with variables is evaluated per request.
  if (rate !== undefined && !(rate.length === 1 && typeof rate[0] === 'string' && /^0+[kKmMgG]?$/.test(rate[0]))) {
    out.limitRate = rate;
  }
  // Kept without limit_rate too: ngx.var.limit_rate set by a handler starts after it.
  if (m.limitRateAfter) out.limitRateAfter = m.limitRateAfter;
  if (m.recursiveErrorPages) out.recursiveErrorPages = true;
  if (m.useridMode !== undefined && m.useridMode !== 'off') {
    const domain = m.useridDomain ?? 'none';
    out.userid = {
      mode: m.useridMode, service: m.useridService ?? null, name: m.useridName ?? 'uid',
      domain: domain === 'none' ? '' : `; domain=${domain}`, path: `; path=${m.useridPath ?? '/'}`,
      expires: m.useridExpires ?? 0, p3p: m.useridP3p === 'none' ? '' : m.useridP3p ?? '',
      mark: m.useridMark ?? '', flags: m.useridFlags ?? '',
    };
  }
  return out;
}
