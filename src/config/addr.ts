// IP addresses as bytes, for allow/deny and set_real_ip_from: parse an address or CIDR once at
// load, and a client's address per request; a match is a masked byte compare, as nginx's.

import net from 'node:net';

/** 4 bytes for IPv4, 16 for IPv6 (an IPv4-mapped IPv6 address gives its 4 IPv4 bytes), or null. */
export function addrBytes(s: string): Uint8Array | null {
  if (net.isIPv4(s)) return Uint8Array.from(s.split('.').map(Number));
  if (!net.isIPv6(s)) return null;
  let text = s;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  let tail: number[] = [];
  const dot = text.lastIndexOf(':');
  if (text.includes('.')) {
    tail = text.slice(dot + 1).split('.').map(Number);
    text = `${text.slice(0, dot + 1)}0:0`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, null];
  const hs = head ? head.split(':') : [];
  const rs = rest ? rest.split(':') : [];
  const groups = rest === null ? hs : [...hs, ...new Array<string>(8 - hs.length - rs.length).fill('0'), ...rs];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { const v = parseInt(g, 16); out[i * 2] = v >> 8; out[i * 2 + 1] = v & 255; });
  if (tail.length === 4) out.set(tail, 12);
  // ::ffff:a.b.c.d is the IPv4 client a.b.c.d (nginx checks it against the IPv4 rules).
  if (out.subarray(0, 10).every((b) => b === 0) && out[10] === 255 && out[11] === 255) return out.slice(12);
  return out;
}

/** `ADDR` or `ADDR/BITS` → bytes and mask; null when invalid. */
export function parseCidr(s: string): { addr: Uint8Array; mask: Uint8Array } | null {
  const slash = s.indexOf('/');
  const text = slash < 0 ? s : s.slice(0, slash);
  const v6 = text.includes(':');
  const addr = v6 ? (net.isIPv6(text) ? addrBytes(text) : null) : addrBytes(text);
  if (addr === null) return null;
  // A mapped address written as IPv6 stays an IPv6 rule in nginx; keep 16 bytes for it.
  const bytes = v6 && addr.length === 4 ? Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...addr]) : addr;
  const max = bytes.length * 8;
  let bits = max;
  if (slash >= 0) {
    const b = s.slice(slash + 1);
    if (!/^\d+$/.test(b) || Number(b) > max) return null;
    bits = Number(b);
  }
  const mask = new Uint8Array(bytes.length);
  for (let i = 0; i < mask.length; i++) mask[i] = bits >= (i + 1) * 8 ? 255 : bits > i * 8 ? (0xff << (8 - (bits - i * 8))) & 0xff : 0;
  // nginx keeps the network part only ("low address bits ... are meaningless" is a warning).
  for (let i = 0; i < bytes.length; i++) bytes[i] &= mask[i];
  return { addr: bytes, mask };
}

export function matches(client: Uint8Array, addr: Uint8Array, mask: Uint8Array): boolean {
  if (client.length !== addr.length) return false;
  for (let i = 0; i < addr.length; i++) if ((client[i] & mask[i]) !== addr[i]) return false;
  return true;
}
