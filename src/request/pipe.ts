// The shape of a location's pipeline as a request walks it: the steps the phase engine
// (src/phases) builds at load, seen here only as functions of the request.

import type { LocationConf } from '../config/types.js';
import type { Req } from './req.js';

/** A request step: a result code from codes.ts or an HTTP status, maybe later. */
export type Step = (r: Req) => number | Promise<number>;
/** header_filter and log: run for their effect; a promise only if they wait. */
export type SideStep = (r: Req) => Promise<void> | undefined;
/** body_filter: `arg` is ngx.arg ([, chunk, eof]) and may be changed in place. */
export type BodyStep = (r: Req, arg: unknown[]) => Promise<void> | undefined;

export interface LocPipeline {
  readonly loc: LocationConf;
  readonly steps: readonly Step[];
  /** The same without the access step (subrequests). */
  readonly subSteps: readonly Step[];
  readonly headerFilter: SideStep | null;
  readonly bodyFilter: BodyStep | null;
  readonly log: SideStep | null;
}
