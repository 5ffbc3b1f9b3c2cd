// What one worker shares across its requests: the conf, the pipelines built at load, the
// logs, timers and counters. Nothing request-specific lives here.

import type { LocationConf, MainConf, ServerConf } from '../config/types.js';
import type { ErrorLog } from './logs.js';
import type { Loader } from './loader.js';
import type { LocPipeline, Step } from './pipeline.js';
import type { TimerSet } from '../api/timer.js';
import type { FfiPlugin, PluginOptions } from '../ffi/index.js';

export interface WorkerState {
  readonly conf: MainConf;
  readonly id: number;
  readonly count: number;
  exiting: boolean;
  /** Request serial numbers for error log lines. */
  serial: number;
  readonly errorLog: ErrorLog;
  readonly loader: Loader;
  readonly pipes: Map<LocationConf, LocPipeline>;
  /** Server-level rewrite ops, run before the location is found. */
  readonly serverOps: Map<ServerConf, Step>;
  readonly timers: TimerSet;
  /** Set by the FFI module when it is present (ngx.load_ffi, ngx.ffi). */
  ffi: FfiHooks | null;
}

export interface FfiHooks {
  load(lib: string, cfg?: string | null, opts?: PluginOptions): FfiPlugin;
  readonly plugins: Record<string, FfiPlugin>;
}
