// Merging the response-header settings down the blocks: each list (add_header, more_set_headers
// and more_clear_headers together, the input ones together) is inherited only by a block that
// has none of its own, as nginx and headers-more do; `expires off` stops an inherited expires.

import type { AddHeaderSpec, ExpiresSpec, HeadersConf, MoreInputOp, MoreOutputOp } from './types-headers.js';

export interface HeaderSettings {
  add?: AddHeaderSpec[];
  expires?: ExpiresSpec | 'off';
  moreOutput?: MoreOutputOp[];
  moreInput?: MoreInputOp[];
}

/** The merged settings; only the keys that apply are present (so unused means `{}`). */
export function mergeHeaders(parent: HeaderSettings | undefined, own: HeaderSettings | undefined): HeaderSettings {
  const out: HeaderSettings = {};
  const add = own?.add ?? parent?.add;
  const expires = own?.expires ?? parent?.expires;
  const moreOutput = own?.moreOutput ?? parent?.moreOutput;
  const moreInput = own?.moreInput ?? parent?.moreInput;
  if (add) out.add = add;
  if (expires) out.expires = expires;
  if (moreOutput) out.moreOutput = moreOutput;
  if (moreInput) out.moreInput = moreInput;
  return out;
}

export function headersConf(s: HeaderSettings): HeadersConf {
  const { expires, ...rest } = s;
  return expires === undefined || expires === 'off' ? rest : { ...rest, expires };
}
