// What the static-file directives resolve to (config/directives-static.ts). Only settings that
// differ from nginx's defaults are present, so a plain `root` location keeps `{}` (the native
// engine's plan sends a location with any of them to JS).

/** `alias PATH`: in a prefix location the part of the URI its pattern matched is replaced by
 *  PATH; in a regex location PATH (with its captures) is the whole file name. */
export interface AliasSpec {
  readonly path: string;
  /** Length of the declaring location's pattern (what is cut from the URI). */
  readonly strip: number;
  /** Declared in a regex location: `path` is a template, the URI is not appended. */
  readonly regex: RegExp | null;
}

export interface FilesConf {
  /** `etag off`. */
  readonly noEtag?: true;
  /** `if_modified_since off | before` (`exact`, the default, is absent). */
  readonly ims?: 'off' | 'before';
  readonly alias?: AliasSpec;
  /** `autoindex on` and its settings away from nginx's defaults (config/directives-autoindex.ts). */
  readonly autoindex?: true;
  readonly autoindexFormat?: 'xml' | 'json' | 'jsonp';
  /** `autoindex_exact_size off`. */
  readonly autoindexRounded?: true;
  readonly autoindexLocaltime?: true;
  /** `max_ranges N`: at most N byte ranges are served, 0 none (absent: no limit). */
  readonly maxRanges?: number;
  /** `random_index on` (a location's; inherited by its nested locations, as nginx merges it). */
  readonly randomIndex?: true;
  /** dav_methods: the WebDAV methods served (phases/dav.ts). */
  readonly davMethods?: readonly string[];
  /** `create_full_put_path on`. */
  readonly davFullPutPath?: true;
  /** dav_access as a file mode (absent: 0600). */
  readonly davAccess?: number;
  /** min_delete_depth N (absent: 0). */
  readonly minDeleteDepth?: number;
  /** `stub_status` in this very block (a content handler: not inherited, as in nginx). */
  readonly stubStatus?: true;
}
