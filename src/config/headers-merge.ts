// Merging the response-header settings down the blocks: each list (add_header, add_trailer, more_set_headers
// and more_clear_headers together, the input ones together) is inherited only by a block that
// has none of its own, as nginx and headers-more do; `expires off` stops an inherited expires.

import { confError } from './table.js';
import type { AddHeaderSpec, ExpiresSpec, HeadersConf, MoreInputOp, MoreOutputOp } from './types-headers.js';
import type { SourceRef } from './types.js';

export interface HeaderSettings {
  add?: AddHeaderSpec[];
  trailer?: AddHeaderSpec[];
  expires?: ExpiresSpec | 'off';
  moreOutput?: MoreOutputOp[];
  moreInput?: MoreInputOp[];
  charset?: string | 'off';
  charsetTypes?: string[];
  sourceCharset?: { name: string; ref: SourceRef };
}

/** nginx's charset_types default; text/html is always in the list. */
const CHARSET_TYPES = ['text/html', 'text/xml', 'text/plain', 'text/vnd.wap.wml', 'application/javascript', 'application/rss+xml'];

/** The merged settings; only the keys that apply are present (so unused means `{}`). */
export function mergeHeaders(parent: HeaderSettings | undefined, own: HeaderSettings | undefined): HeaderSettings {
  const out: HeaderSettings = {};
  const add = own?.add ?? parent?.add;
  const trailer = own?.trailer ?? parent?.trailer;
  const expires = own?.expires ?? parent?.expires;
  const moreOutput = own?.moreOutput ?? parent?.moreOutput;
  const moreInput = own?.moreInput ?? parent?.moreInput;
  if (add) out.add = add;
  if (trailer) out.trailer = trailer;
  if (expires) out.expires = expires;
  if (moreOutput) out.moreOutput = moreOutput;
  if (moreInput) out.moreInput = moreInput;
  for (const k of ['charset', 'charsetTypes', 'sourceCharset'] as const) {
    const v = own?.[k] ?? parent?.[k];
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  const src = out.sourceCharset;
  // nginx would recode from source_charset to charset (with a charset_map); tresty does not recode.
  if (src && out.charset && out.charset !== 'off' && src.name.toLowerCase() !== out.charset.toLowerCase()) {
    throw confError('TRESTY_ERR_CONF_UNSUPPORTED',
      `tresty does not recode: "source_charset ${src.name}" differs from "charset ${out.charset}"`, src.ref);
  }
  return out;
}

export function headersConf(s: HeaderSettings): HeadersConf {
  const { expires, charset, charsetTypes, sourceCharset: _src, ...rest } = s;
  const out: { -readonly [K in keyof HeadersConf]: HeadersConf[K] } = rest;
  if (expires !== undefined && expires !== 'off') out.expires = expires;
  if (charset !== undefined && charset !== 'off') {
    const types = charsetTypes ?? CHARSET_TYPES;
    out.charset = { name: charset, types: types.includes('*') ? ['*'] : [...new Set(['text/html', ...types])] };
  }
  return out;
}
