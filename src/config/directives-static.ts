// The static-file directives beyond root/index: etag, if_modified_since and alias, with nginx
// 1.22's syntax and messages. `alias` shares `root`'s duplicate key, so a block with both gets
// nginx's "is duplicate" error whichever comes second.

import type { BlockState } from './builders.js';
import { confError, type DirectiveRow, onOffRow } from './table.js';
import type { AliasSpec, FilesConf } from './types-static.js';

const FILES_KEYS = ['noEtag', 'ims', 'alias', 'autoindex', 'autoindexFormat', 'autoindexRounded', 'autoindexLocaltime', 'stubStatus', 'maxRanges', 'randomIndex',
  'davMethods', 'davFullPutPath', 'davAccess', 'minDeleteDepth'] as const;

export type FilesSettings = { -readonly [K in keyof FilesConf]?: FilesConf[K] | null };

const HSL = ['http', 'server', 'location'] as const;

/** The block's files settings (etag ... autoindex, stub_status), made on first use. */
export function filesOf(s: BlockState): FilesSettings {
  return (s.settings!.files ??= {});
}

export const staticDirectives: readonly DirectiveRow[] = [
  onOffRow('etag', HSL, (on, s) => { filesOf(s).noEtag = on ? null : true; }),
  {
    name: 'max_ranges', contexts: HSL, args: [1, 1],
    apply(d, s) {
      if (!/^\d+$/.test(d.args[0])) throw confError('TRESTY_ERR_CONF_VALUE', '"max_ranges" directive invalid number', d);
      filesOf(s).maxRanges = Number(d.args[0]);
    },
  },
  {
    name: 'if_modified_since', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v !== 'off' && v !== 'exact' && v !== 'before') {
        throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${v}" in "if_modified_since" directive, it must be "off", "exact" or "before"`, d);
      }
      filesOf(s).ims = v === 'exact' ? null : v;
    },
  },
  {
    name: 'alias', contexts: ['location'], args: [1, 1], dupKey: 'root',
    apply(d, s, ctx) {
      const loc = s.location!;
      if (loc.modifier === '@') throw confError('TRESTY_ERR_CONF_NOT_ALLOWED', `"alias" directive cannot be used inside the named location`, d);
      const regex = loc.modifier === '~' || loc.modifier === '~*' ? loc.regex ?? null : null;
      // Relative to the prefix, as root; the trailing `/` matters (it is joined to the URI's rest).
      const p = d.args[0].startsWith('$') ? d.args[0] : ctx.abs(d.args[0]) + (d.args[0].endsWith('/') && d.args[0] !== '/' ? '/' : '');
      const alias: AliasSpec = { path: p, strip: loc.pattern.length, regex };
      filesOf(s).alias = alias;
    },
  },
];

/**
 * Merges down the blocks: each setting is the block's own (null = back to nginx's default), else
 * the parent's; a block with its own `root` drops an inherited `alias`, as nginx's merge does.
 */
export function mergeFiles(parent: FilesConf | undefined, own: FilesSettings | undefined, ownRoot: boolean): FilesConf {
  const out: FilesConf = {};
  for (const k of FILES_KEYS) {
    const v = own && k in own ? own[k] : (k === 'alias' && ownRoot) || k === 'stubStatus' ? undefined : parent?.[k];
    if (v !== undefined && v !== null) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
