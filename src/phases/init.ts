// init_by_js_*: runs in the master before the workers are forked and, because Node cannot fork
// a process's memory, once more in every worker before init_worker_by_js (so module state it
// sets up exists where requests run). An error stops start-up.

import { CTX } from '../request/context.js';
import { ConfError, TrestyError } from '../errors.js';
import type { MainConf } from '../config/types.js';
import { INTERRUPT, isPromise } from '../request/interrupt.js';
import { call } from './invoke.js';
import type { LoadedHandler, Loader } from './loader.js';
import type { PhaseModule } from './phase.js';
import { handlerFailure, initLoadFailure } from '../request/failure.js';
import { Call } from '../request/call.js';
import type { WorkerState } from '../request/worker.js';

export const initPhase: Omit<PhaseModule<never>, 'build'> & { run(w: WorkerState, loader: Loader, conf: MainConf): Promise<void> } = {
  name: 'init',
  bit: CTX.init,
  async run(w, loader, conf) {
    const spec = conf.init;
    if (!spec) return;
    let h: LoadedHandler;
    try {
      h = await loader.load(spec);
    } catch (e) {
      // nginx + lua says a chunk that does not compile as it says a throw (`init_by_lua error:`).
      if (!(e instanceof ConfError)) throw e;
      throw new TrestyError('TRESTY_ERR_HANDLER', initLoadFailure(e), { cause: e });
    }
    try {
      const v = call(new Call(CTX.init, w, null, h), h);
      if (isPromise(v)) await v;
    } catch (e) {
      if (e === INTERRUPT) return;
      throw new TrestyError('TRESTY_ERR_HANDLER', handlerFailure(h, e), { cause: e });
    }
  },
};
