// A host name looked up while the conf loads, as nginx's getaddrinfo() at load (`resolver NAME`).
// Loading is synchronous (the master, `-t` and the workers share one loader) and node:dns has
// no synchronous lookup, so a short-lived node asks the system's resolver (getaddrinfo, the
// same /etc/hosts and DNS as nginx) and prints the addresses. Only names pay this (~0.1 s).

import { execFileSync } from 'node:child_process';

const SCRIPT = `require('node:dns').lookup(process.argv.at(-1), { all: true, verbatim: true },
  (e, all) => process.stdout.write(JSON.stringify(e ? [] : all.map((a) => a.address))));`;

/** Every address of `name` in the system's order, without repeats; [] when it does not resolve. */
export function lookupHostSync(name: string): string[] {
  try {
    // Without NODE_OPTIONS: a preloaded module of the parent's has no business here (and might print).
    const out = execFileSync(process.execPath, ['-e', SCRIPT, '--', name], {
      encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, NODE_OPTIONS: '' },
    });
    const all = JSON.parse(out.trim().split('\n').at(-1) || '[]') as string[];
    return [...new Set(all)];
  } catch {
    return [];
  }
}
