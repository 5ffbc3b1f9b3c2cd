// nginx's gzip, gzip_static and gunzip directives with nginx 1.22's defaults and messages. The
// filter's settings only matter where `gzip on` applies; gzip_static and gunzip work with gzip off
// too (they share its client rules: gzip_vary, gzip_http_version, gzip_proxied, gzip_disable).

import { confRegex } from './conf-regex.js';
import type { BlockState } from './builders.js';
import { confError, type DirectiveRow, flagError } from './table.js';
import type { GzipConf, GzipFilter, GzipProxied } from './types-gzip.js';
import { parseFlag, parseSize } from './values.js';

export interface GzipSettings {
  enable?: boolean;
  types?: string[];
  minLength?: number;
  level?: number;
  vary?: boolean;
  proxied?: GzipProxied[];
  httpVersion?: '1.0' | '1.1';
  disable?: { msie6: boolean; res: RegExp[] };
  static?: 'on' | 'off' | 'always';
  bufferSize?: number;
  gunzip?: boolean;
  gunzipBufferSize?: number;
}

const HSL = ['http', 'server', 'location'] as const;
const PROXIED = new Set<GzipProxied>(['off', 'expired', 'no-cache', 'no-store', 'private', 'no_last_modified', 'no_etag', 'auth', 'any']);

function gs(s: BlockState): GzipSettings {
  return (s.settings!.gzip ??= {});
}

function flag(name: string, key: 'enable' | 'vary' | 'gunzip', contexts: DirectiveRow['contexts']): DirectiveRow {
  return {
    name, contexts, args: [1, 1],
    apply(d, s) {
      const v = parseFlag(d.args[0]);
      if (v === null) throw flagError(d);
      gs(s)[key] = v;
    },
  };
}

export const gzipDirectives: readonly DirectiveRow[] = [
  flag('gzip', 'enable', [...HSL, 'lif']),
  flag('gzip_vary', 'vary', HSL),
  {
    name: 'gzip_types', contexts: HSL, args: [1, 64],
    apply(d, s) { gs(s).types = d.args.map((t) => t.toLowerCase()); },
  },
  {
    name: 'gzip_min_length', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = parseSize(d.args[0]);
      if (v === null) throw confError('TRESTY_ERR_CONF_VALUE', `"gzip_min_length" directive invalid value`, d);
      gs(s).minLength = v;
    },
  },
  {
    name: 'gzip_comp_level', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = /^\d+$/.test(d.args[0]) ? Number(d.args[0]) : NaN;
      if (Number.isNaN(v)) throw confError('TRESTY_ERR_CONF_VALUE', `"gzip_comp_level" directive invalid number`, d);
      if (v < 1 || v > 9) throw confError('TRESTY_ERR_CONF_VALUE', 'value must be between 1 and 9', d);
      gs(s).level = v;
    },
  },
  {
    name: 'gzip_proxied', contexts: HSL, args: [1, 9],
    apply(d, s) {
      for (const a of d.args) {
        if (!PROXIED.has(a as GzipProxied)) throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${a}"`, d);
      }
      gs(s).proxied = d.args as GzipProxied[];
    },
  },
  {
    name: 'gzip_http_version', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v !== '1.0' && v !== '1.1') throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${v}"`, d);
      gs(s).httpVersion = v;
    },
  },
  {
    name: 'gzip_disable', contexts: HSL, args: [1, 64],
    apply(d, s) {
      const res: RegExp[] = [];
      let msie6 = false;
      for (const a of d.args) {
        if (a === 'msie6') { msie6 = true; continue; }
        // nginx compiles these case-insensitively (PCRE, NGX_REGEX_CASELESS).
        try { res.push(confRegex(a, true)); } catch (e) {
          throw confError('TRESTY_ERR_CONF_VALUE', `invalid regex "${a}" in "gzip_disable" directive: ${(e as Error).message}`, d);
        }
      }
      gs(s).disable = { msie6, res };
    },
  },
  {
    // The size is a streamed body's zlib output chunk; the number has no counterpart (a flush's
    // output is written whole, nginx's busy-buffer limit is not tresty's).
    name: 'gzip_buffers', contexts: HSL, args: [2, 2],
    apply(d, s) {
      const size = parseSize(d.args[1]);
      if (!/^\d+$/.test(d.args[0]) || Number(d.args[0]) === 0 || !size) {
        throw confError('TRESTY_ERR_CONF_VALUE', '"gzip_buffers" directive invalid value', d);
      }
      gs(s).bufferSize = size;
    },
  },
  flag('gunzip', 'gunzip', HSL),
  {
    // As gzip_buffers: the size is the inflate stream's output chunk.
    name: 'gunzip_buffers', contexts: HSL, args: [2, 2],
    apply(d, s) {
      const size = parseSize(d.args[1]);
      if (!/^\d+$/.test(d.args[0]) || Number(d.args[0]) === 0 || !size) {
        throw confError('TRESTY_ERR_CONF_VALUE', '"gunzip_buffers" directive invalid value', d);
      }
      gs(s).gunzipBufferSize = size;
    },
  },
  {
    name: 'gzip_static', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v !== 'on' && v !== 'off' && v !== 'always') {
        throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${v}"`, d);
      }
      gs(s).static = v;
    },
  },
];

export function mergeGzip(parent: GzipSettings | undefined, own: GzipSettings | undefined): GzipSettings {
  return { ...parent, ...own };
}

/** nginx's defaults for what a block did not set; only what applies is present. */
export function gzipConf(s: GzipSettings): GzipConf {
  const out: { -readonly [K in keyof GzipConf]: GzipConf[K] } = {};
  const types = s.types ?? ['text/html'];
  const rules = (): GzipFilter => ({
    types: types.includes('*') ? ['*'] : [...new Set(['text/html', ...types])],
    minLength: s.minLength ?? 20,
    level: s.level ?? 1,
    vary: s.vary ?? false,
    proxied: s.proxied ?? ['off'],
    httpVersion: s.httpVersion ?? '1.1',
    disableMsie6: s.disable?.msie6 ?? false,
    disable: s.disable?.res ?? [],
    ...(s.bufferSize !== undefined ? { bufferSize: s.bufferSize } : {}),
  });
  if (s.enable) out.filter = rules();
  if (s.static === 'on' || s.static === 'always') out.static = { mode: s.static, rules: rules() };
  if (s.gunzip) out.gunzip = { rules: rules(), ...(s.gunzipBufferSize !== undefined ? { bufferSize: s.gunzipBufferSize } : {}) };
  return out;
}
