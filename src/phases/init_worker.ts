// init_worker_by_js_*: runs once in every worker after its pipelines are built and before it
// serves; timers started here live for the worker's lifetime. An error is logged, the worker
// goes on (as OpenResty does).

import { CTX } from '../request/context.js';
import type { MainConf } from '../config/types.js';
import { INTERRUPT, isPromise } from '../request/interrupt.js';
import { call } from './invoke.js';
import type { Loader } from './loader.js';
import type { PhaseModule } from './phase.js';
import { handlerFailure } from '../request/failure.js';
import { Call } from '../request/call.js';
import { nextConnection } from '../log/index.js';
import type { WorkerState } from '../request/worker.js';

export const initWorkerPhase: Omit<PhaseModule<never>, 'build'> & { run(w: WorkerState, loader: Loader, conf: MainConf): Promise<void> } = {
  name: 'init_worker',
  bit: CTX.init_worker,
  async run(w, loader, conf) {
    const spec = conf.initWorker;
    if (!spec) return;
    const h = await loader.load(spec);
    const c = new Call(CTX.init_worker, w, null, h);
    // nginx runs it on a fake connection: its ngx.log lines have a `*N` and the context (its
    // throw's line has neither, as nginx's).
    c.origin = { connection: nextConnection(), tail: ', context: init_worker_by_js*', peer: '' };
    try {
      const v = call(c, h);
      if (isPromise(v)) await v;
    } catch (e) {
      if (e !== INTERRUPT) w.errorLog.log('error', handlerFailure(h, e));
    }
  },
};
