// The `user` directive (nginx's): a root master's workers drop to USER:GROUP once they listen.
// What they must still write after the drop is handed to that user first, as nginx does: the log
// files (the master creates and chowns them again at each USR1, so a rotated log can be reopened
// by the workers) and the client body temp folders (nginx chowns its temp paths).
import fs from 'node:fs';
import path from 'node:path';
import type { LocationConf, MainConf } from '../config/types.js';
import { TrestyError } from '../errors.js';
import type { ErrorLog } from '../log/index.js';

function locations(list: readonly LocationConf[], out: LocationConf[]): LocationConf[] {
  for (const l of list) {
    out.push(l);
    locations(l.locations, out);
  }
  return out;
}

/** Every log file and temp folder the conf's workers write. */
function written(conf: MainConf): { files: Set<string>; dirs: Set<string> } {
  const files = new Set(conf.errorLog.map((e) => e.path).filter((p) => p !== 'stderr'));
  const dirs = new Set<string>();
  for (const s of conf.http?.servers ?? []) {
    for (const l of locations([s.defaults, ...s.locations, ...s.namedLocations.values()], [])) {
      for (const a of l.accessLog) if (a !== 'off' && a.path !== 'stderr') files.add(a.path);
      dirs.add(l.proxy.clientBodyTempPath ?? path.join(conf.prefix, 'client_body_temp'));
    }
  }
  return { files, dirs };
}

/** In the master (root): creates what the workers will write and gives it to the workers' user. */
export function handOverFiles(conf: MainConf, log: ErrorLog): void {
  const u = conf.user;
  if (!u) return;
  const { files, dirs } = written(conf);
  const own = (p: string, make: () => void): void => {
    try {
      make();
      fs.chownSync(p, u.uid, u.gid);
    } catch (e) {
      log.alert(`chown("${p}", ${u.uid}) failed (${(e as Error).message})`);
    }
  };
  for (const f of files) own(f, () => { fs.mkdirSync(path.dirname(f), { recursive: true }); fs.closeSync(fs.openSync(f, 'a', 0o644)); });
  for (const d of dirs) own(d, () => fs.mkdirSync(d, { recursive: true, mode: 0o700 }));
}

/** In a worker, after it listens: setgid, initgroups, setuid (nginx's order). Fatal on failure. */
export function dropPrivileges(conf: MainConf): void {
  const u = conf.user;
  if (!u) return;
  const step = (what: string, f: () => void): void => {
    try {
      f();
    } catch (e) {
      throw new TrestyError('TRESTY_ERR_WORKER_USER', `${what} failed (${(e as Error).message})`);
    }
  };
  step(`setgid(${u.gid})`, () => process.setgid!(u.gid));
  step(`initgroups(${u.user}, ${u.gid})`, () => (process as unknown as { initgroups(user: string, group: number): void }).initgroups(u.user, u.gid));
  step(`setuid(${u.uid})`, () => process.setuid!(u.uid));
}
