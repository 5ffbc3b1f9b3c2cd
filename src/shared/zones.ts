// The zones this process has mapped, as `ngx.shared` shows them. The master publishes the zones
// it created (its init_by_js may fill them); a worker attaches the segments named in its start
// message. One registry per process: a process runs one generation of the conf at a time.

import { TrestyError } from '../errors.js';
import { SharedDict } from './dict.js';
import { shdictAddon, type ZoneApi } from './native.js';

/** A zone as the master hands it to a worker: attach by path, not by inherited descriptor. */
export interface ZoneSpec {
  readonly name: string;
  readonly path: string;
  readonly size: number;
}

export type SharedDicts = Readonly<Record<string, SharedDict | undefined>>;

const EMPTY: SharedDicts = Object.freeze(Object.create(null) as Record<string, SharedDict>);
let dicts: SharedDicts = EMPTY;
let replayDicts: SharedDicts = EMPTY;

/** Makes these zones (name → the zone as this process mapped it) the process's ngx.shared. */
export function publish(zones: ReadonlyMap<string, ZoneApi>): void {
  if (zones.size === 0) {
    dicts = replayDicts = EMPTY;
    return;
  }
  const live = Object.create(null) as Record<string, SharedDict>;
  const replay = Object.create(null) as Record<string, SharedDict>;
  for (const [name, z] of zones) {
    live[name] = new SharedDict(name, z);
    replay[name] = new SharedDict(name, z, true);
  }
  dicts = Object.freeze(live);
  replayDicts = Object.freeze(replay);
}

/**
 * ngx.shared. `initReplay`: the view of init_by_js when it runs again in a worker, whose writes
 * are skipped (the master's run made them; see SharedDict).
 */
export function sharedDicts(initReplay = false): SharedDicts {
  return initReplay ? replayDicts : dicts;
}

/** A worker maps the master's segments; an error names the zone (TRESTY_ERR_SHDICT_ZONE). */
export function attachZones(specs: readonly ZoneSpec[]): void {
  const zones = new Map<string, ZoneApi>();
  if (specs.length > 0) {
    const n = shdictAddon();
    for (const s of specs) {
      try {
        zones.set(s.name, n.attach(s.path));
      } catch (e) {
        throw new TrestyError('TRESTY_ERR_SHDICT_ZONE', `js_shared_dict "${s.name}": ${(e as Error).message}`, { cause: e });
      }
    }
  }
  publish(zones);
}
