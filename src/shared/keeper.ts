// The master's side of the zones: it creates each js_shared_dict segment before the workers
// start, keeps a zone (and its data) across a reload when its name and size are unchanged (as
// nginx does), and removes segments when they leave the conf and when tresty stops. Segments
// are files `tresty.<master pid>.<n>.<name>` in /dev/shm; a master that died without cleaning
// up (SIGKILL) leaves its files behind, and the next master to start removes them.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfError, isTrestyError, TrestyError } from '../errors.js';
import { shdictAddon, type ZoneApi } from './native.js';
import { publish, type ZoneSpec } from './zones.js';

/** What the conf asks for (src/config's SharedDictConf). */
export interface ZoneWanted {
  readonly name: string;
  readonly size: number;
  readonly ref: { readonly file: string; readonly line: number };
}

interface Zone { readonly spec: ZoneSpec; readonly api: ZoneApi }

/** A reload's zones: commit when its workers started, abort when they did not. */
export interface ZonePlan {
  /** What the new workers attach. */
  readonly specs: readonly ZoneSpec[];
  commit(): void;
  abort(): void;
}

const PREFIX = 'tresty.';
const NAME = /^tresty\.(\d+)\.\d+\./;

/** Where segments live: TRESTY_SHM_DIR, else /dev/shm, else the temp folder. */
export function shmDir(): string {
  const env = process.env.TRESTY_SHM_DIR;
  if (env) return env;
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    return '/dev/shm';
  } catch {
    return os.tmpdir();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the segments of masters that are gone; returns the files removed. */
export function sweepStale(dir = shmDir()): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const f of names) {
    const m = NAME.exec(f);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    try {
      fs.unlinkSync(path.join(dir, f));
      removed.push(f);
    } catch { /* another master swept it first */ }
  }
  return removed;
}

export class ZoneKeeper {
  private zones = new Map<string, Zone>();
  private seq = 0;
  private readonly dir: string;

  constructor(dir = shmDir()) {
    this.dir = dir;
    // However the master ends (a stop, process.exit after a fatal error), its segments go too.
    process.once('exit', () => this.removeAll());
  }

  /**
   * Creates the zones the conf adds or resizes (a zone whose name and size are unchanged is
   * kept, with its data) and publishes the result as this process's ngx.shared, so the next
   * init_by_js sees it. Nothing is removed until commit().
   */
  prepare(wanted: Iterable<ZoneWanted>): ZonePlan {
    const next = new Map<string, Zone>();
    const created: Zone[] = [];
    try {
      for (const w of wanted) {
        const cur = this.zones.get(w.name);
        if (cur && cur.spec.size === w.size) {
          next.set(w.name, cur);
          continue;
        }
        const z = this.create(w);
        created.push(z);
        next.set(w.name, z);
      }
    } catch (e) {
      for (const z of created) this.remove(z);
      throw e;
    }
    publish(apisOf(next));
    let done = false;
    return {
      specs: [...next.values()].map((z) => z.spec),
      commit: () => {
        if (done) return;
        done = true;
        for (const [name, z] of this.zones) if (next.get(name) !== z) this.remove(z);
        this.zones = next;
      },
      abort: () => {
        if (done) return;
        done = true;
        for (const z of created) this.remove(z);
        publish(apisOf(this.zones));
      },
    };
  }

  /** Unmaps and removes every segment (the master is stopping). */
  removeAll(): void {
    for (const z of this.zones.values()) this.remove(z);
    this.zones.clear();
  }

  private create(w: ZoneWanted): Zone {
    if (this.seq === 0) sweepStale(this.dir);
    const safe = w.name.replace(/[^\w.-]/g, '_').slice(0, 40);
    const file = path.join(this.dir, `${PREFIX}${process.pid}.${++this.seq}.${safe}`);
    try {
      const n = shdictAddon();
      fs.rmSync(file, { force: true });
      const api = n.create(file, w.size, w.name);
      return { spec: { name: w.name, path: file, size: w.size }, api };
    } catch (e) {
      const code = isTrestyError(e) ? e.code : 'TRESTY_ERR_SHDICT_ZONE';
      const msg = e instanceof TrestyError && code === 'TRESTY_ERR_SHDICT_UNAVAILABLE' ? e.message
        : `cannot create js_shared_dict "${w.name}" (${w.size} bytes) in ${this.dir}: ${(e as Error).message}`;
      throw new ConfError(code, msg, w.ref.file, w.ref.line);
    }
  }

  private remove(z: Zone): void {
    z.api.detach();
    fs.rmSync(z.spec.path, { force: true });
  }
}

function apisOf(zones: ReadonlyMap<string, Zone>): Map<string, ZoneApi> {
  return new Map([...zones].map(([name, z]) => [name, z.api]));
}
