// Memory shared by the master and every worker: js_shared_dict zones and ngx.shared.DICT.
//   master:  new ZoneKeeper().prepare(conf.sharedDicts.values()) → specs for the workers
//   worker:  attachZones(specs)
//   ngx:     sharedDicts() (src/api/ngx.ts's `ngx.shared`)
import { ConfError, isTrestyError } from '../errors.js';
import type { ZoneWanted } from './keeper.js';
import { shdictAddon } from './native.js';

export { SharedDict, type ShdictValue, type StoreResult } from './dict.js';
export { ZoneKeeper, sweepStale, shmDir, type ZonePlan, type ZoneWanted } from './keeper.js';
export { attachZones, sharedDicts, type SharedDicts, type ZoneSpec } from './zones.js';
export type { ZoneStats } from './native.js';

/** `tresty -t`: zones need the native addon; say so at the first js_shared_dict line. */
export function testZones(wanted: Iterable<ZoneWanted>): void {
  for (const w of wanted) {
    try {
      shdictAddon();
    } catch (e) {
      throw new ConfError(isTrestyError(e) ? e.code : 'TRESTY_ERR_SHDICT_UNAVAILABLE', (e as Error).message, w.ref.file, w.ref.line);
    }
    return;
  }
}
