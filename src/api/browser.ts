// $modern_browser and $ancient_browser (nginx's browser module, config/directives-browser.ts):
// the User-Agent is looked up in the modern list (each browser's version after its name), then
// netscape4 and the ancient substrings; `unlisted` makes the rest modern. $msie: request/user-agent.ts.

import { BROWSER_DEFAULTS, BROWSER_MASKS, type BrowserConf } from '../config/directives-browser.js';
import type { LocationConf } from '../config/types.js';
import type { Req } from '../request/req.js';
import { userAgent } from '../request/user-agent.js';

function isModern(ua: string | undefined, cf: BrowserConf): boolean {
  if (ua === undefined) return cf.unlisted;
  if (cf.modern !== null) {
    for (const b of cf.modern) {
      const m = BROWSER_MASKS[b.mask]!;
      if (m.skip >= ua.length) continue;
      const found = ua.indexOf(m.name, m.skip);
      if (found < 0) continue;
      let p = found + m.add;
      if (p >= ua.length) continue;
      // nginx's number: X.Y.Z.W as X*1e6 + Y*1e4 + Z*1e2 + W; past a dot, more than asked is modern
      let version = 0;
      let part = 0;
      let scale = 1000000;
      for (; p < ua.length; p++) {
        const c = ua.charCodeAt(p);
        if (c >= 48 && c <= 57) { part = part * 10 + (c - 48); continue; }
        if (c !== 46) break;
        version += part * scale;
        if (version > b.version) return true;
        part = 0;
        scale = Math.floor(scale / 100);
      }
      return version + part * scale >= b.version;
    }
    if (!cf.unlisted) return false;
  }
  if (cf.netscape4 && ua.length > 13 && ua.startsWith('Mozilla/') && ua[8]! > '0' && ua[8]! < '5') return false;
  if (cf.ancient !== null && cf.ancient.some((a) => ua.includes(a))) return false;
  return cf.unlisted;
}

/** The variable's value: the _value directive's (default "1") when it holds, else empty. */
export function browserVar(r: Req, modern: boolean): string {
  const cf = ((r.loc as LocationConf | undefined) ?? r.server.defaults).browser ?? BROWSER_DEFAULTS;
  const m = isModern(userAgent(r), cf);
  if (modern) return m ? cf.modernValue : '';
  return m ? '' : cf.ancientValue;
}
