// Resolved conf of the access-related modules: map, allow/deny, real_ip, limit_req/limit_conn,
// auth_basic, limit_except. Kept apart from types.ts so each module's shape reads in one place.

/** A conf string with `$var`s, split once at load: text, or a variable name. */
export type TemplatePart = string | { readonly name: string };
export type TemplateParts = readonly TemplatePart[];

/** `map SOURCE $VAR { ... }` (http). Strings match case-insensitively; regexes in conf order. */
export interface MapConf {
  readonly variable: string;
  readonly source: TemplateParts;
  /** Lower-cased source strings → value. */
  readonly exact: ReadonlyMap<string, TemplateParts>;
  /** hostnames: `*.a.com` / `.a.com` as `.a.com` suffixes, longest first. */
  readonly startWild: readonly { readonly suffix: string; readonly value: TemplateParts }[];
  /** hostnames: `www.a.*` as `www.a.` prefixes, longest first. */
  readonly endWild: readonly { readonly prefix: string; readonly value: TemplateParts }[];
  readonly regexes: readonly { readonly regex: RegExp; readonly value: TemplateParts }[];
  readonly defaultValue: TemplateParts;
  readonly hostnames: boolean;
  /** volatile: evaluated on every read, not once per request. */
  readonly volatile: boolean;
}
