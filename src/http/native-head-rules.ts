// The rules a native exchange checks a head against: node:http's, so a handler sees the same
// request headers and the same errors on both engines.

// node's rules for repeated request headers (IncomingMessage#headers): these keep the first value.
export const FIRST_WINS = new Set(['content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization',
  'proxy-authorization', 'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards',
  'retry-after', 'etag', 'last-modified', 'server', 'age', 'expires']);

export const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
/** Header names already checked (a server sends the same few again and again). */
export const GOOD_NAMES = new Set<string>();
// eslint-disable-next-line no-control-regex
export const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Bad (BAD_VALUE) or above 0x7f. */
export const NOT_ASCII = /[^\t\x20-\x7e]/;

export function invalid(code: string, message: string): TypeError {
  const e = new TypeError(message) as TypeError & { code: string };
  e.code = code;
  return e;
}
