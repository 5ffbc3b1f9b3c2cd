// What the event loop is running, where the watchdog thread can read it (src/master/watchdog.ts):
// a handler about to run writes its id into shared memory, and clears it when its synchronous
// part returns. A loop stuck in a handler (`while (true) {}`) leaves the id there; one stuck after
// an `await` leaves only the last handler that started. Ids name "label (file:line) in location";
// each text is sent to the thread once, the first time its id is used.
import type { LocationConf } from '../config/types.js';
import type { HandlerInfo } from './failure.js';

/** Int32 slots of the shared memory. */
export const WATCH_BEAT = 0;
export const WATCH_CURRENT = 1;
export const WATCH_LAST = 2;
export const WATCH_SLOTS = 3;

let slots: Int32Array | null = null;
let announce: (id: number, text: string) => void = () => {};
const ids = new WeakMap<HandlerInfo, Map<LocationConf | null, number>>();
let next = 1;

/** Turns the tracking on (worker_watchdog_timeout set): `tell` sends an id's text to the watchdog. */
export function watchWith(shared: Int32Array, tell: (id: number, text: string) => void): void {
  slots = shared;
  announce = tell;
}

function idOf(h: HandlerInfo, loc: LocationConf | null): number {
  let byLoc = ids.get(h);
  if (byLoc === undefined) ids.set(h, (byLoc = new Map()));
  let id = byLoc.get(loc);
  if (id === undefined) {
    id = next++;
    byLoc.set(loc, id);
    const at = h.spec.source === 'block' ? `${h.spec.ref.file}:${h.spec.codeLine ?? h.spec.ref.line}` : h.file;
    const where = loc === null ? '' : ` in location "${loc.modifier === '' ? '' : `${loc.modifier} `}${loc.pattern}"`;
    announce(id, `${h.label} (${at})${where}`);
  }
  return id;
}

/** Before a handler runs: returns what to give back to left(). Cheap when the watchdog is off. */
export function entering(h: HandlerInfo, loc: LocationConf | null): number {
  const s = slots;
  if (s === null) return 0;
  const prev = s[WATCH_CURRENT]!;
  const id = idOf(h, loc);
  s[WATCH_CURRENT] = id;
  s[WATCH_LAST] = id;
  return prev;
}

/** The handler's synchronous part returned (or threw). */
export function left(prev: number): void {
  if (slots !== null) slots[WATCH_CURRENT] = prev;
}
