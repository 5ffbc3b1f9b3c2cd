// The contexts a request (or a timer, init, init_worker) runs in, one bit each, named once.
// The phase engine sets the bit; every phase-gated API checks it (STYLE 5) and throws one text.

import { TrestyError } from '../errors.js';

export const CTX = {
  init: 1 << 0,
  init_worker: 1 << 1,
  set: 1 << 2,
  rewrite: 1 << 3,
  access: 1 << 4,
  content: 1 << 5,
  header_filter: 1 << 6,
  body_filter: 1 << 7,
  log: 1 << 8,
  timer: 1 << 9,
  // gateway (issue 14): per upstream try, per TLS handshake
  balancer: 1 << 10,
  ssl_certificate: 1 << 11,
} as const;
export type ContextName = keyof typeof CTX;

const NAMES = new Map<number, string>(
  (Object.keys(CTX) as ContextName[]).map((k) => [CTX[k], k === 'timer' ? 'ngx.timer' : `${k}_by_js*`]),
);

/** The context's name as OpenResty prints it: `log_by_js*`, `ngx.timer`. */
export function contextLabel(bit: number): string {
  return NAMES.get(bit) ?? 'unknown';
}

/** OpenResty's text, with the phase's name. */
export function apiDisabled(bit: number): TrestyError {
  return new TrestyError('TRESTY_ERR_API_DISABLED', `API disabled in the context of ${contextLabel(bit)}`);
}
