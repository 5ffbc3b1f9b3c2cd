// nginx's access module: `allow` / `deny` rules tried in order, the first that matches the
// client's address ($remote_addr, after realip) decides; none matching lets the request on.

import { addrBytes, matches } from '../config/addr.js';
import type { AccessRule } from '../config/types.js';
import { DECLINED, OK } from '../request/codes.js';
import type { Req } from '../request/req.js';

/** OK (allowed), 403 (denied) or DECLINED (no rule matched). */
export function checkRules(r: Req, rules: readonly AccessRule[]): number {
  // A unix-socket client has no IP address: only `unix:` and `all` rules match it.
  const a = addrBytes(r.remoteAddr);
  for (const rule of rules) {
    const hit = rule.kind === 'all' ? true
      : a === null ? rule.kind === 'unix'
        : rule.kind !== 'unix' && matches(a, rule.addr, rule.mask);
    if (hit) return rule.deny ? 403 : OK;
  }
  return DECLINED;
}
