// The shape every phase file has (STYLE 1): a name, its context bit, and a build function that
// turns a location's conf into the phase's step at load, or null when the phase has nothing to
// do there (so it costs nothing per request).

import type { LocationConf, MainConf } from '../config/types.js';
import type { WorkerState } from '../request/worker.js';
import type { Loader } from './loader.js';

export type { BodyStep, SideStep, Step } from '../request/pipe.js';

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
