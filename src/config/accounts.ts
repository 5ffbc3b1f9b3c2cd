// User and group lookups for the `user` directive, through the system's name service (getent,
// so LDAP or systemd users are found as nginx's getpwnam() finds them). Only a master running
// as root looks them up, as nginx does.
import { execFileSync } from 'node:child_process';

/** The numeric id of a passwd or group entry, or null when there is none. */
export function lookupId(db: 'passwd' | 'group', name: string): number | null {
  try {
    const line = execFileSync('getent', [db, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const id = Number(line.split(':')[2]);
    return Number.isInteger(id) ? id : null;
  } catch {
    return null;
  }
}
