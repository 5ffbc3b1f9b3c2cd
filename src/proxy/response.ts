// The upstream's answer as the client gets it: hop-by-hop headers dropped, the headers nginx
// hides by default (Date, Server, X-Pad, X-Accel-*) hidden unless proxy_pass_header names them,
// proxy_hide_header on top, and Location / Refresh rewritten by proxy_redirect.

import type { ProxyConf, ProxyPass } from '../config/types.js';
import { absoluteUrl, headersOf } from '../request/output.js';
import type { Req } from '../request/req.js';

const HOP = ['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection'];
const HIDDEN = ['date', 'server', 'x-pad', 'x-accel-expires', 'x-accel-redirect', 'x-accel-limit-rate', 'x-accel-buffering', 'x-accel-charset'];

export function hiddenHeaders(conf: ProxyConf): ReadonlySet<string> {
  const hide = new Set([...HIDDEN.filter((h) => !conf.passHeaders.includes(h)), ...conf.hideHeaders]);
  for (const h of HOP) hide.add(h);
  return hide;
}

export type Redirect = (value: string) => string;

/**
 * proxy_redirect as one function, or null when nothing is rewritten. `default` maps the
 * proxy_pass URL (with its URI part, or with `/`) to the location's prefix (or `/`).
 */
export function redirectRule(conf: ProxyConf, pass: ProxyPass | null): Redirect | null {
  const pairs: Array<[string, string]> = [];
  for (const rule of conf.redirects) {
    if (rule === 'off') return null;
    if (rule === 'default') {
      if (pass === null || pass.dynamic) continue;
      const base = `${pass.scheme}://${pass.proxyHost}`;
      pairs.push(pass.uri !== null ? [base + pass.uri, pass.prefix] : [`${base}/`, '/']);
    } else {
      pairs.push([rule.from, rule.to]);
    }
  }
  if (pairs.length === 0) return null;
  return (v) => {
    for (const [from, to] of pairs) if (v.startsWith(from)) return to + v.slice(from.length);
    return v;
  };
}

/** Copies the answer's headers to the response; the first of each name replaces a handler's. */
export function copyHeaders(r: Req, raw: readonly string[], hide: ReadonlySet<string>, redirect: Redirect | null): void {
  // With no header set before (the common case), a name already in the store came from this
  // answer: no set of the names seen is needed to tell a repeat from a handler's header.
  const fresh = r.headers === null || r.headers.size === 0;
  const h = headersOf(r);
  let seen: Set<string> | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const key = name.toLowerCase();
    if (hide.has(key)) continue;
    let value = raw[i + 1]!;
    if (redirect !== null && (key === 'location' || key === 'refresh')) {
      const was = value;
      value = redirectValue(key, value, redirect);
      // nginx's header filter makes a Location absolute (absolute_redirect) only when the
      // upstream's own value was absolute: a relative one from the upstream passes as it came.
      if (key === 'location' && !was.startsWith('/') && value.startsWith('/')) value = absoluteUrl(r, value);
    }
    if (fresh) {
      if (h.has(key)) h.add(name, value);
      else h.set(name, value);
    } else if (seen?.has(key)) h.add(name, value);
    else {
      h.set(name, value);
      (seen ??= new Set()).add(key);
    }
  }
}

function redirectValue(key: string, v: string, redirect: Redirect): string {
  if (key === 'location') return redirect(v);
  // Refresh: `5; url=http://...`
  const m = /^(.*?url=)(.*)$/i.exec(v);
  return m ? m[1] + redirect(m[2]) : v;
}
