// Argument checks shared by the TCP and UDP cosockets: Lua's type names in the messages, and
// send's argument flattened to bytes, so both raise what OpenResty raises.
import { TrestyError } from '../errors.js';

/** A value's type as Lua would name it in "bad argument" messages. */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  return typeof v === 'object' ? 'table' : typeof v;
}

export function argErr(msg: string): TrestyError { return new TrestyError('TRESTY_ERR_API_ARGS', msg); }

/** A timeout in ms, checked as OpenResty's settimeout checks it. */
export function timeoutArg(fn: string, v: unknown, n = 1): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw argErr(`bad argument #${n} to '${fn}' (number expected, got ${typeName(v)})`);
  if (v < 0 || v > 0x7fffffff) throw argErr('bad timeout value');
  return v;
}

/** send's argument as the list of byte chunks it stands for (arrays nest, as Lua tables do; a
 *  boolean is text on its own but refused inside one, as lua-nginx-module's). */
export function sendChunks(v: unknown, out: Buffer[], depth = 0): void {
  if (typeof v === 'string') out.push(Buffer.from(v, 'utf8'));
  else if (v instanceof Uint8Array) out.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  else if (typeof v === 'boolean' && depth > 0) throw argErr(`bad argument #1 to 'send' (bad data type boolean found)`);
  else if (typeof v === 'number' || typeof v === 'boolean') out.push(Buffer.from(String(v)));
  else if (Array.isArray(v) && depth < 100) for (const x of v) sendChunks(x, out, depth + 1);
  else throw argErr(`bad argument #1 to 'send' (string, number, boolean, Uint8Array, or array expected, got ${typeName(v)})`);
}

/** receive's pattern: 'l' (a line: the default, '*l'), 'a' (all, '*a'), or a byte count. */
export function receivePattern(pattern: unknown): 'l' | 'a' | number {
  if (pattern === undefined || pattern === '*l' || pattern === 'l') return 'l';
  if (pattern === '*a' || pattern === 'a') return 'a';
  const n = typeof pattern === 'number' ? pattern : typeof pattern === 'string' && /^\s*\d+\s*$/.test(pattern) ? Number(pattern) : NaN;
  if (!Number.isInteger(n) || n < 0) {
    throw argErr(typeof pattern === 'string' ? `bad pattern argument: ${pattern}` : `bad argument #1 to 'receive' (string or number expected, got ${typeName(pattern)})`);
  }
  return n;
}

/** receiveany's max, checked as OpenResty checks it. */
export function receiveanyMax(max: unknown): number {
  if (typeof max !== 'number' || !Number.isInteger(max) || max <= 0) throw argErr(`bad argument #1 to 'receiveany' (bad max argument)`);
  return max;
}

/**
 * connect's host as nginx's URL parser reads it: a port in the string (`"127.0.0.1:6379"`,
 * `"[::1]:6379"`) wins over the port argument; a bracketed IPv6 address loses its brackets.
 * Returns the host and port, or nginx's error text.
 */
export function hostPort(host: string, port: number): { host: string; port: number } | string {
  const bad = (why: string): string => `failed to parse host name "${host}": ${why}`;
  let name = host;
  let inString: string | null = null;
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(host);
  if (v6 !== null) {
    name = v6[1]!;
    inString = v6[2] ?? null;
  } else if (host.indexOf(':') >= 0 && host.indexOf(':') === host.lastIndexOf(':')) {
    // One colon: host:port (more are an IPv6 address without brackets, taken whole).
    [name, inString] = host.split(':') as [string, string];
  }
  if (name === '') return bad('no host');
  if (inString === null) return { host: name, port };
  const n = /^\d{1,5}$/.test(inString) ? Number(inString) : NaN;
  if (!(n >= 1 && n <= 65535)) return bad('invalid port');
  return { host: name, port: n };
}
