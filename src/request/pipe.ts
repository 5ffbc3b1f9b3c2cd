// The shape of a location's pipeline as a request walks it: the steps the phase engine
// (src/phases) builds at load, seen here only as functions of the request.

import type { LocationConf } from '../config/types.js';
import type { Req } from './req.js';

/** A request step: a result code from codes.ts or an HTTP status, maybe later. */
export type Step = (r: Req) => number | Promise<number>;
/** log: runs for its effect; a promise only if it waits. */
export type SideStep = (r: Req) => Promise<void> | undefined;
/** header_filter: OK, or the status ngx.exit gave there (ERROR: the response is aborted). */
export type HeaderStep = (r: Req) => number | Promise<number>;
/** body_filter: `arg` is ngx.arg ([, chunk, eof]) and may be changed in place; OK or ERROR. */
export type BodyStep = (r: Req, arg: unknown[]) => number | Promise<number>;

/** The response-header directives (phases/headers.ts): `before` header_filter_by_js, `after` it. */
export interface OutHeaders {
  readonly before: ((r: Req) => void) | null;
  readonly after: ((r: Req) => void) | null;
}

/** Where each step of the request phases stands in LocPipeline.steps (a fixed layout). */
export const SLOTS = 5;
/** The rewrite phase has two slots: the rewrite-module script and rewrite_by_js, in either order. */
export const ACCESS_SLOT = 2;
export const TRY_FILES_SLOT = 3;
export const CONTENT_SLOT = 4;

export interface LocPipeline {
  readonly loc: LocationConf;
  /**
   * SLOTS entries, null where the location has nothing to do: the two rewrite-phase steps,
   * access, try_files, content. Every location has the same layout, so a request whose location
   * changes (a location `if`) goes on at the same index in the new pipeline.
   */
  readonly steps: ReadonlyArray<Step | null>;
  /** The index of rewrite_by_js in steps (0 with rewrite_by_js_no_postpone, else 1). */
  readonly jsRewriteAt: number;
  readonly headerFilter: HeaderStep | null;
  readonly bodyFilter: BodyStep | null;
  /** add_header, expires, more_set_headers: null when the location has none. */
  readonly outHeaders: OutHeaders | null;
  readonly log: SideStep | null;
}
