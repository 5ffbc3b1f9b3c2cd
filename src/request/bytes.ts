// Strings that stand for bytes: the client's (one char a byte, as the engines read heads) and
// what decoding %XX gives (text when the bytes are UTF-8, else one char a byte, as Lua's strings).

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The bytes a string stands for: one a char when every char is below 256 (what the client sent,
 * `$args`, a body read as bytes), else its UTF-8.
 */
export function bytesOf(s: string): Buffer {
  return /[^\x00-\xff]/.test(s) ? Buffer.from(s, 'utf8') : Buffer.from(s, 'latin1');
}

/** Bytes as text when they are UTF-8, else one char a byte. */
export function textOf(b: Buffer): string {
  try { return UTF8.decode(b); } catch { return b.toString('latin1'); }
}

/** A hex digit's value, or -1. */
export function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** A chunk's length in bytes (a string's as UTF-8). */
export function byteLength(c: string | Uint8Array): number {
  return typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength;
}
