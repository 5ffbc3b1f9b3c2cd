// The zone's native binding (native/shdict/shd_napi.c, built to native/build/tresty_shdict.node),
// loaded once per process on first use. Its results other than the returned value land in one
// scratch Float64Array (SCRATCH): [0] the status, [1] flags / a length / a ttl / an excess,
// [2] stale or forcible.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrestyError } from '../errors.js';

export interface ZoneStats {
  capacity: number;
  free: number;
  entries: number;
  /** Times a process died holding the zone's lock. */
  recoveries: number;
  /** ... with an operation half done, which was undone. */
  rollbacks: number;
  /** ... and the zone still inconsistent afterwards, so emptied (never expected). */
  resets: number;
}

/** One zone as this process mapped it: functions bound to it (native/shdict/shd_napi_*.c). */
export interface ZoneApi {
  get(key: string, stale: boolean): string | number | boolean | undefined;
  /** store() with op SET, no exptime and no flags; the status is in SCRATCH[0]. */
  set(key: string, value: unknown): void;
  store(op: number, key: string, value: unknown, exptimeMs: number, flags: number): number;
  /** incr without init. */
  incr(key: string, delta: number): number;
  incrInit(key: string, delta: number, hasInit: boolean, init: number, initTtlMs: number): number;
  push(left: boolean, key: string, value: unknown): number;
  pop(left: boolean, key: string): string | number | undefined;
  llen(key: string): number;
  ttl(key: string): number;
  expire(key: string, exptimeMs: number): number;
  flushAll(): number;
  flushExpired(max: number): number;
  keys(max: number): string[];
  stats(): ZoneStats;
  check(): string | null;
  leaky(key: string, rate: number, burst: number, commit: boolean, whole?: boolean): number;
  leakyUncommit(key: string, rate: number): number;
  /** limit_conn's check-and-take; the count with this request in SCRATCH[1]. */
  connTake(key: string, max: number): number;
  /** Unmaps the zone in this process; its functions throw from then on. */
  detach(): void;
}

export interface ShdictAddon {
  create(path: string, size: number, name: string): ZoneApi;
  attach(path: string): ZoneApi;
  setScratch(f: Float64Array): void;
  /** Status code → lua-nginx-module's error text. */
  readonly errors: readonly string[];
  readonly limits: { readonly minSize: number; readonly maxSize: number };
}

/** Status codes of native/shdict/tresty_shdict.h. */
export const ST = {
  OK: 0, EXISTS: 1, NOT_FOUND: 2, NO_MEMORY: 3, NOT_A_NUMBER: 4, NOT_A_LIST: 5, IS_LIST: 6,
  EMPTY_KEY: 7, KEY_TOO_LONG: 8, ADD_NIL: 9, BAD_VALUE: 10, REJECTED: 11, LOCK: 12, SYS: 13,
} as const;

/** store() operations, as lua-nginx-module numbers them. */
export const OP = { SET: 0, ADD: 1, REPLACE: 2, SAFE: 4 } as const;

/**
 * The scratch array the binding writes to. One per loaded addon, kept on its exports: were this
 * module loaded twice (two paths to it), both copies must read where the addon writes.
 */
export let SCRATCH: Float64Array = new Float64Array(4);

/** native/build/ of the tresty package this file belongs to (from dist/src/shared or src/shared). */
function addonPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'tresty') {
      return path.join(dir, 'native', 'build', 'tresty_shdict.node');
    }
    const up = path.dirname(dir);
    if (up === dir) return path.join('native', 'build', 'tresty_shdict.node');
    dir = up;
  }
}

let addon: ShdictAddon | null = null;

/** The binding; throws TRESTY_ERR_SHDICT_UNAVAILABLE with what to do when it is not built. */
export function shdictAddon(): ShdictAddon {
  if (addon) return addon;
  const ADDON = addonPath();
  if (!existsSync(ADDON)) {
    throw new TrestyError('TRESTY_ERR_SHDICT_UNAVAILABLE',
      `js_shared_dict needs the native addon ${ADDON}, which is not built: run "npm run build" `
      + '(it needs make, a C compiler and Node\'s headers: Node.js tarballs and NodeSource\'s nodejs have them; '
      + 'Debian\'s own nodejs: apt-get install libnode-dev)');
  }
  try {
    addon = createRequire(import.meta.url)(ADDON) as ShdictAddon;
  } catch (e) {
    throw new TrestyError('TRESTY_ERR_SHDICT_UNAVAILABLE', `cannot load ${ADDON}: ${(e as Error).message}`, { cause: e });
  }
  const shared = addon as ShdictAddon & { scratch?: Float64Array };
  if (!shared.scratch) {
    shared.scratch = SCRATCH;
    addon.setScratch(SCRATCH);
  }
  SCRATCH = shared.scratch;
  return addon;
}
