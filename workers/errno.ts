import { getSystemErrorMap } from 'node:util';

/** strerror-like text for a negative errno (libuv's message, capitalized as C's). */
export function errnoMessage(errno: number): string {
  const m = getSystemErrorMap().get(errno)?.[1] ?? 'Unknown error';
  return m.charAt(0).toUpperCase() + m.slice(1);
}
