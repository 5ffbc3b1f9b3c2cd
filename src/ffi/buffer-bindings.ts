// Buffer's own UTF-8 methods, bound once for use on any Uint8Array, shared memory included.
// They are what toString('utf8', s, e) and write(s, off, max) call after their argument checks
// (@types/node omits them), so a slot or a bound buffer needs no Buffer wrapper and no checks.

/** The UTF-8 text of this[s, e). */
export const bufferUtf8Slice = (Buffer.prototype as unknown as { utf8Slice(this: Uint8Array, s: number, e: number): string }).utf8Slice;

/** Writes s as UTF-8 at off, whole characters only, at most max bytes; returns the bytes written. */
export const bufferUtf8Write = Buffer.prototype.utf8Write as (this: Uint8Array, s: string, off: number, max?: number) => number;
