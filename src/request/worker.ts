// What one worker shares across its requests: the conf, the pipelines built at load, the
// logs, timers and counters. Nothing request-specific lives here.

import type { LocationConf, MainConf, ServerConf } from '../config/types.js';
import type { ErrorLog } from '../log/index.js';
import type { FfiPlugin, PluginOptions } from '../ffi/index.js';
import type { LocPipeline, Step } from './pipe.js';
import type { Req } from './req.js';
import type { TimerSet } from './timers.js';

export interface WorkerState {
  readonly conf: MainConf;
  readonly id: number;
  readonly count: number;
  exiting: boolean;
  /** Request serial numbers for error log lines. */
  serial: number;
  readonly errorLog: ErrorLog;
  readonly pipes: Map<LocationConf, LocPipeline>;
  /** Server-level rewrite ops, run before the location is found. */
  readonly serverOps: Map<ServerConf, Step>;
  readonly timers: TimerSet;
  /** Set by the FFI module when it is present (ngx.load_ffi, ngx.ffi). */
  ffi: FfiHooks | null;
  /**
   * Runs a request from the top (server ops, location, phases): the phase engine sets it, the
   * API uses it for subrequests without knowing the engine.
   */
  run: (r: Req) => void;
}

export interface FfiHooks {
  load(lib: string, cfg?: string | null, opts?: PluginOptions): FfiPlugin;
  readonly plugins: Record<string, FfiPlugin>;
}
