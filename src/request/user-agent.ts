// What nginx reads from the User-Agent when the header arrives (ngx_http_process_user_agent):
// $msie, and gzip_disable msie6's test. The first User-Agent line counts, as nginx's.

import type { Req } from './req.js';

export interface UaFlags {
  readonly msie: boolean;
  /** MSIE 4.x / 5.x, or 6.x without SV1: gzip_disable msie6's browsers. */
  readonly msie6: boolean;
}

const NONE: UaFlags = { msie: false, msie6: false };

export function userAgent(r: Req): string | undefined {
  const v = r.inHeaders['user-agent'];
  return typeof v === 'string' ? v : v?.[0];
}

export function uaFlags(ua: string | undefined): UaFlags {
  if (ua === undefined) return NONE;
  // Opera says MSIE too: nginx then counts neither
  if (ua.includes('Opera')) return NONE;
  const at = ua.indexOf('MSIE ');
  if (at < 0 || at + 7 >= ua.length) return NONE;
  let msie6 = false;
  if (ua[at + 6] === '.') {
    const major = ua[at + 5];
    msie6 = major === '4' || major === '5' || (major === '6' && !ua.includes('SV1', at + 8));
  }
  return { msie: true, msie6 };
}
