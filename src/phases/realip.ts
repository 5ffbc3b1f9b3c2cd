// nginx's realip module: when the client's socket address is a trusted proxy
// (set_real_ip_from), $remote_addr (and what allow/deny and the error log's `client:` see)
// becomes the address its header names. Applied once per request: with the server's settings
// before the rewrite phase (nginx's post-read), else with the location's before access (preaccess).

import { addrBytes, matches } from '../config/addr.js';
import type { AccessRule, RealIpConf } from '../config/types.js';
import type { Req } from '../request/req.js';

function trusted(from: readonly AccessRule[], a: Uint8Array | null): boolean {
  for (const f of from) {
    if (f.kind === 'all') return true;
    if (a === null ? f.kind === 'unix' : f.kind !== 'unix' && matches(a, f.addr, f.mask)) return true;
  }
  return false;
}

/** `1.2.3.4`, `1.2.3.4:99`, `2001:db8::1`, `[2001:db8::1]:99` → address and port, or null. */
function addrPort(s: string): { addr: string; port: string } | null {
  let addr = s;
  let port = '';
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    addr = v6[1];
    port = v6[2] ?? '';
  } else if (s.indexOf(':') === s.lastIndexOf(':') && s.includes(':')) {
    addr = s.slice(0, s.indexOf(':'));
    port = s.slice(s.indexOf(':') + 1);
    if (!/^\d+$/.test(port) || Number(port) > 65535) return null;
  }
  const bytes = addrBytes(addr);
  if (bytes === null) return null;
  return { addr: bytes.length === 4 && addr.includes(':') ? bytes.join('.') : addr, port: port === '0' ? '' : port };
}

function headerText(r: Req, name: string): string | undefined {
  const v = r.inHeaders[name];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  // X-Forwarded-For lines read as one list; another header's first line counts (nginx's).
  return name === 'x-forwarded-for' ? v.join(', ') : v[0];
}

export function applyRealIp(r: Req, c: RealIpConf): void {
  if (r.realAddr !== null || r.parent !== null) return;
  if (!trusted(c.from, addrBytes(r.ex.remoteAddress))) return;
  const text = headerText(r, c.header);
  if (text === undefined) return;
  const items = c.header === 'x-forwarded-for' ? text.split(',') : [text];
  let found: { addr: string; port: string } | null = null;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i].trim();
    if (item === '' && i > 0) continue;
    const a = addrPort(item);
    if (a === null) return;
    found = a;
    if (!c.recursive || !trusted(c.from, addrBytes(a.addr))) break;
  }
  if (found === null) return;
  r.realAddr = found.addr;
  r.realPort = found.port;
}
