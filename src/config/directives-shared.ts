// `js_shared_dict NAME SIZE;` (lua_shared_dict's twin): a zone of memory shared by the master
// and every worker, seen as ngx.shared.NAME (src/shared).

import { confError, type DirectiveRow, invalidValue } from './table.js';
import { parseSize } from './values.js';

// The zone's bounds, as native/shdict/shd_layout.h sets them (SHD_MIN_SIZE, SHD_MAX_SIZE; a test
// keeps them in step): the header and the undo log take a few KB, and links are 32-bit offsets.
export const SHARED_DICT_MIN = 16 * 1024;
export const SHARED_DICT_MAX = 0xfffff000;

export const sharedDirectives: readonly DirectiveRow[] = [
  {
    name: 'js_shared_dict', contexts: ['http'], args: [2, 2], multiple: true,
    apply(d, s) {
      const [name, sizeText] = d.args;
      if (!/^[\w.-]+$/.test(name)) throw confError('TRESTY_ERR_CONF_VALUE', `invalid js_shared_dict name "${name}"`, d);
      const size = parseSize(sizeText);
      if (size === null) throw invalidValue(d, sizeText);
      if (size < SHARED_DICT_MIN) {
        throw confError('TRESTY_ERR_CONF_VALUE', `invalid js_shared_dict size "${sizeText}": the smallest zone is 16k`, d);
      }
      if (size > SHARED_DICT_MAX) {
        throw confError('TRESTY_ERR_CONF_VALUE', `invalid js_shared_dict size "${sizeText}": the largest zone is 4095m`, d);
      }
      const zones = (s.main.sharedDicts ??= new Map());
      if (zones.has(name)) throw confError('TRESTY_ERR_CONF_DUPLICATE', `js_shared_dict "${name}" is already defined`, d);
      zones.set(name, { name, size, ref: { file: d.file, line: d.line } });
    },
  },
];
