// What the response-header directives resolve to: add_header and expires (nginx's headers
// module), headers-more's more_* directives and charset (nginx's charset module, no recoding). HeadersConf holds only what a block really
// uses, so a location without them keeps an empty object (the native engine's plan needs that).

import type { SourceRef } from './types.js';

/** `add_header NAME VALUE [always]`; VALUE is a template with `$var`s. */
export interface AddHeaderSpec {
  readonly name: string;
  readonly value: string;
  readonly always: boolean;
  readonly ref: SourceRef;
}

/** `expires`: an offset in seconds from now (or from Last-Modified), a time of day, epoch or max. */
export type ExpiresSpec =
  | { readonly kind: 'epoch' }
  | { readonly kind: 'max' }
  | { readonly kind: 'after'; readonly seconds: number; readonly modified: boolean }
  | { readonly kind: 'daily'; readonly seconds: number };

/** One header of a more_* directive: VALUE is a template; '' clears (more_clear_* always). */
export interface MoreHeader {
  readonly name: string;
  readonly value: string;
  /** A name ending in `*`: every header starting with the rest (more_clear_* only). */
  readonly prefix: boolean;
}

/** One more_set_headers / more_clear_headers (`-s` statuses, `-t` types; empty = any). */
export interface MoreOutputOp {
  readonly statuses: readonly number[];
  readonly types: readonly string[];
  readonly headers: readonly MoreHeader[];
}

/** One more_set_input_headers / more_clear_input_headers (`-r`: only replace existing ones). */
export interface MoreInputOp {
  readonly replace: boolean;
  readonly types: readonly string[];
  readonly headers: readonly MoreHeader[];
}

export interface HeadersConf {
  /** add_header of the nearest block that has any (nginx's inheritance). */
  readonly add?: readonly AddHeaderSpec[];
  /** add_trailer, inherited as add_header (same shape: NAME VALUE [always]). */
  readonly trailer?: readonly AddHeaderSpec[];
  readonly expires?: ExpiresSpec;
  readonly moreOutput?: readonly MoreOutputOp[];
  readonly moreInput?: readonly MoreInputOp[];
  /** `charset NAME` (not off): appended to the Content-Type of `types` ('*': any type). */
  readonly charset?: { readonly name: string; readonly types: readonly string[] };
}
