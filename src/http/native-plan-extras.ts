// The filters of a stock nginx.conf the native engine applies itself (native/engine/filters.c,
// gzip.c, tryfiles.c): gzip (the engine compresses a small GET answer itself, answers a HEAD of
// one with its head, and hands the rest it would compress to JS), charset, expires, etag off, if_modified_since and the
// common try_files shapes. Anything rarer in these keys keeps the location on JS.
import type { LocationConf } from '../config/types.js';
import { LF } from './native-flags.js';

/** Words and strings of the plan, as native-plan.ts's writer puts them. */
export interface PlanWriter { u32(v: number): void; str(s: string): void }


const GZ_ON = 1;
const GZ_VARY = 2;
const GZ_V10 = 4;
const GZ_MSIE6 = 8;
const GZ_PROXIED_OFF = 16;
const GZ_STATIC = 32;
const GZ_STATIC_ALWAYS = 64;

const EXP_EPOCH = 1;
const EXP_MAX = 2;
const EXP_AFTER = 3;

/** try_files arguments the engine tests: `$uri` (a file) and `$uri/` (a directory). */
const TRY_ARGS: Readonly<Record<string, number>> = { $uri: 0, '$uri/': 1 };

/** Whether these keys of the location leave it to the engine (the keys are in LOCATION_KEYS). */
export function extrasNative(loc: LocationConf): boolean {
  const { filter, static: gzStatic, gunzip } = loc.gzip;
  // gunzip inflates answers in JS (request/gunzip.ts).
  if (gunzip !== undefined) return false;
  // gzip_disable's regexes are JS's to run (gzip_static shares the filter's client rules).
  if ((filter ?? gzStatic?.rules)?.disable.length) return false;
  const { charset, expires } = loc.headers;
  if (charset !== undefined && (charset.name.includes('$') || /[\x00-\x1f\x7f;]/.test(charset.name))) return false;
  if (expires !== undefined && (expires.kind === 'daily' || (expires.kind === 'after' && expires.modified))) return false;
  // alias, a root with variables, autoindex and stub_status are JS's (autoindex's other settings mean nothing without it).
  // max_ranges: the engine announces ranges and hands any Range to JS; the limit is JS's.
  if (loc.files.alias !== undefined || loc.files.autoindex !== undefined || loc.files.stubStatus !== undefined || loc.files.maxRanges !== undefined
    || loc.files.randomIndex !== undefined || loc.files.davMethods !== undefined) return false;
  if (loc.root.includes('$')) return false; // a root with variables is evaluated per request
  const t = loc.tryFiles;
  if (t !== null) {
    if (!t.files.every((f) => f in TRY_ARGS)) return false;
    if (!/^=\d+$/.test(t.fallback) && !/^\/[^$?#\s]*$/.test(t.fallback)) return false;
  }
  return true;
}

/** The location's extras in the plan (route.h: after the add_header lines). */
export function writeExtras(w: PlanWriter, loc: LocationConf): void {
  const { filter: g, static: gs } = loc.gzip;
  // The client rules are the same settings for both (gzip_vary, gzip_http_version, ...).
  const rules = g ?? gs?.rules;
  if (rules === undefined) {
    w.u32(0);
  } else {
    w.u32((g !== undefined ? GZ_ON : 0) | (gs !== undefined ? GZ_STATIC : 0) | (gs?.mode === 'always' ? GZ_STATIC_ALWAYS : 0)
      | (rules.vary ? GZ_VARY : 0) | (rules.httpVersion === '1.0' ? GZ_V10 : 0) | (rules.disableMsie6 ? GZ_MSIE6 : 0)
      | (rules.proxied.includes('off') ? GZ_PROXIED_OFF : 0));
  }
  w.u32(g === undefined ? 0 : Math.min(g.minLength, 0xffffffff));
  w.u32(g?.level ?? 0);
  w.str(g === undefined ? '' : g.types.map((t) => `${t}\n`).join(''));
  const cs = loc.headers.charset;
  w.str(cs?.name ?? '');
  w.str(cs ? cs.types.map((t) => `${t}\n`).join('') : '');
  const e = loc.headers.expires;
  w.u32(e === undefined ? 0 : e.kind === 'epoch' ? EXP_EPOCH : e.kind === 'max' ? EXP_MAX : EXP_AFTER);
  w.u32(e !== undefined && e.kind === 'after' ? e.seconds | 0 : 0);
  const t = loc.tryFiles;
  w.u32(t?.files.length ?? 0);
  for (const f of t?.files ?? []) w.u32(TRY_ARGS[f]!);
  const code = t && /^=\d+$/.test(t.fallback) ? Number(t.fallback.slice(1)) : 0;
  w.u32(code);
  w.str(t && code === 0 ? t.fallback : '');
}

/** etag off and if_modified_since off | before, as flags of the location. */
export function extraFlags(loc: LocationConf): number {
  const f = loc.files;
  return (f.noEtag ? LF.NOETAG : 0) | (f.ims === 'off' ? LF.IMS_OFF : 0) | (f.ims === 'before' ? LF.IMS_BEFORE : 0);
}
