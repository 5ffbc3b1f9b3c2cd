// error_page: what an error status of the request's location turns into. A URI or @name is an
// internal redirect (GET, the error's status kept unless `=CODE` or `=` says otherwise); an
// absolute URL is a redirect (302, or the `=CODE` given when it is one). Used once per request,
// as nginx's recursive_error_pages off.

import { headersOf } from '../request/headers.js';
import type { Req } from '../request/req.js';
import { compileTemplate, type Template } from './template.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface ErrorTarget {
  /** The URI or @name to redirect to internally (when not a redirect). */
  readonly uri: string;
  /** The status to answer with: the response's own when 0. */
  readonly status: number;
  /** Set for an absolute URL: the Location. */
  readonly redirect: string | null;
}

const templates = new Map<string, Template>();

export function errorPageFor(r: Req, status: number): ErrorTarget | null {
  const spec = r.loc.errorPages.get(status);
  if (spec === undefined) return null;
  let t = templates.get(spec.target);
  if (t === undefined) { t = compileTemplate(spec.target); templates.set(spec.target, t); }
  const target = t(r);
  const overwrite = spec.overwrite;
  if (target.startsWith('/') || target.startsWith('@')) {
    return { uri: target, status: overwrite < 0 ? status : overwrite, redirect: null };
  }
  headersOf(r).set('Location', target);
  return { uri: '', status: REDIRECTS.has(overwrite) ? overwrite : 302, redirect: target };
}
