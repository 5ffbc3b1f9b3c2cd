// Ports for servers a test starts later (tresty, nginx) and for ports nobody listens on. The old
// way, listen(0) then close, handed out a port from the kernel's ephemeral range, which every
// listen(0) on the machine draws from too (the kernel gives bind(0) the odd ports of that range,
// connect() the even ones): between the close and the server's bind, an upstream of the same
// test, another test file or another suite on the machine could take it, and the server failed
// with EADDRINUSE (reported from test/tls.test.ts under load; two listen(0)s in a row got the
// same port 5 times in 20,000 here). So the ports come from outside that range, where neither
// bind(0) nor connect() ever goes, and each is reserved by a file in a directory shared by the
// user's test processes (created with O_EXCL, holding the owner's pid), so that two processes
// never hand out the same port; a reservation whose owner is gone is taken over. Each port is
// also bound once here, to skip one that something outside this scheme listens on.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// Per user: a stale reservation of another user's could not be taken over.
const DIR = path.join(os.tmpdir(), `tresty-test-ports-${os.userInfo().uid}`);
const LOWEST = 1024; // the first port that needs no privilege
const TRIES = 500;

/** The kernel's ephemeral range (net.ipv4.ip_local_port_range), [32768, 60999] if unreadable. */
function ephemeral(): [number, number] {
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo! > 0 && hi! >= lo!) return [lo!, hi!];
  } catch { /* not Linux, or no /proc */ }
  return [32768, 60999];
}

/** The larger span of ports outside the ephemeral range; all unprivileged ones if it leaves too few. */
function span(): [number, number] {
  const [lo, hi] = ephemeral();
  const below: [number, number] = [LOWEST, lo - 1];
  const above: [number, number] = [hi + 1, 65535];
  const best = below[1] - below[0] >= above[1] - above[0] ? below : above;
  return best[1] - best[0] >= 1000 ? best : [LOWEST, 65535];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

/** Reserves `port` for this process: true when its file is now ours. */
function reserve(port: number): boolean {
  const file = path.join(DIR, String(port));
  if (create(file)) return true;
  if (!stale(file)) return false;
  // A dead owner's: taken over under a lock of its own, so that of two processes finding it stale
  // only one removes it (without it, the second could remove the first's new reservation; seen in
  // a full run, where the test below found the files its own earlier run had left). A process
  // dying holding this lock leaves one port unused, no more.
  const lock = `${file}.takeover`;
  if (!create(lock)) return false;
  try {
    if (!stale(file)) return false; // taken over by another process meanwhile
    fs.rmSync(file, { force: true });
    return create(file);
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** Creates `file` holding this process's pid; false if it exists. */
function create(file: string): boolean {
  try {
    fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** The reservation's owner is gone. An owner that is alive (this process included: a port is handed
 *  out once) keeps it; an empty file is one being written right now, a missing one was just freed. */
function stale(file: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch {
    return false;
  }
  const owner = Number(text || NaN);
  return !Number.isNaN(owner) && !alive(owner);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.unref();
    s.once('error', () => resolve(false));
    // 0.0.0.0: taken if anything listens on the port at any IPv4 address (127.0.0.1 included).
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

let next = -1;

/**
 * A port no other test process hands out, outside the range the kernel picks from for listen(0)
 * and connect(), and free when this returns. Nothing listens on it until the caller's server does.
 */
export async function freePort(): Promise<number> {
  const [lo, hi] = span();
  const size = hi - lo + 1;
  fs.mkdirSync(DIR, { recursive: true });
  // A random start per process, then in turn: processes starting together rarely contend.
  if (next < 0) next = Math.floor(Math.random() * size);
  for (let i = 0; i < TRIES; i++) {
    const port = lo + (next++ % size);
    if (reserve(port) && await bindable(port)) return port;
  }
  throw new Error(`freePort: no free port found in ${TRIES} tries in ${lo}-${hi} (reservations in ${DIR})`);
}
