// The shape every phase file has (STYLE 1): a name, its context bit, and a build function that
// turns a location's conf into the phase's step at load, or null when the phase has nothing to
// do there (so it costs nothing per request).

import type { LocationConf, MainConf } from '../config/types.js';
import type { Loader } from './loader.js';
import type { Req } from './request.js';
import type { WorkerState } from './worker.js';

/** A request step: a result code from codes.ts or an HTTP status, maybe later. */
export type Step = (r: Req) => number | Promise<number>;
/** header_filter and log: run for their effect; a promise only if they wait. */
export type SideStep = (r: Req) => Promise<void> | undefined;
/** body_filter: `arg` is ngx.arg ([, chunk, eof]) and may be changed in place. */
export type BodyStep = (r: Req, arg: unknown[]) => Promise<void> | undefined;

export interface BuildCtx {
  readonly conf: MainConf;
  readonly loader: Loader;
  readonly w: WorkerState;
}

export interface PhaseModule<S> {
  readonly name: string;
  readonly bit: number;
  build(loc: LocationConf, b: BuildCtx): Promise<S | null>;
}
