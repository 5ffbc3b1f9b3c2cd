// The log-file registry: one writer per path, shared by the error log and the access log,
// batched per event-loop turn, reopened on USR1 (so logrotate can move the files away).
import fs from 'node:fs';
import path from 'node:path';
import { TrestyError } from '../errors.js';

export interface LogWriter {
  readonly path: string;
  /** Appends one line; `line` must already end with "\n". Written at the end of this turn. A
   *  string is written as UTF-8; a Buffer as it is (a line with bytes a client sent). */
  write(line: string | Buffer): void;
  /** Writes what is buffered now, synchronously (before exit, before a reopen). */
  flush(): void;
  /** Closes and opens the path again: the next lines go to a new file if the old one was moved. */
  reopen(): void;
}

class FileWriter implements LogWriter {
  private fd: number;
  private pending: Array<string | Buffer> = [];
  /** A Buffer is pending: the batch is joined as bytes. */
  private binary = false;
  private scheduled = false;
  private readonly flushSoon = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(readonly path: string) {
    this.fd = this.path === 'stderr' ? 2 : openAppend(this.path);
  }

  write(line: string | Buffer): void {
    this.pending.push(line);
    if (typeof line !== 'string') this.binary = true;
    if (!this.scheduled) {
      this.scheduled = true;
      // One write(2) per turn however many requests ended in it, as cheap as nginx's buffer=.
      // Not unref'd: an unref'd immediate does not stop the loop from blocking in poll, so a line
      // logged from a timer, with no socket event after it (the native engine's sockets are not
      // the loop's), would wait for the next request to be written.
      setImmediate(this.flushSoon);
    }
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const data = this.pending.length === 1 ? this.pending[0]!
      : this.binary ? Buffer.concat(this.pending.map((l) => (typeof l === 'string' ? Buffer.from(l) : l)))
        : this.pending.join('');
    this.pending = [];
    this.binary = false;
    try {
      if (this.fd < 0) this.fd = openAppend(this.path); // written to after close(): open again
      if (typeof data === 'string') fs.writeSync(this.fd, data);
      else fs.writeSync(this.fd, data);
    } catch {
      // A full disk or a closed stderr must not take the server down; nginx drops the line too.
    }
  }

  reopen(): void {
    this.flush();
    if (this.fd === 2 || this.fd < 0) return;
    const old = this.fd;
    try {
      this.fd = openAppend(this.path);
    } catch {
      return; // keep writing to the old file rather than lose lines
    }
    fs.closeSync(old);
  }

  /** Closes the file; a holder that still writes opens it again (never a reused fd number). */
  close(): void {
    this.flush();
    if (this.fd > 2) fs.closeSync(this.fd);
    if (this.fd !== 2) this.fd = -1;
  }
}

function openAppend(file: string): number {
  try {
    // A fresh prefix has no logs/ folder yet; create it rather than fail the first start.
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return fs.openSync(file, 'a', 0o644);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new TrestyError('TRESTY_ERR_LOG_OPEN', `open() "${file}" failed (${err.code ?? 'error'}: ${err.message})`, { cause: e });
  }
}

const registry = new Map<string, FileWriter>();

/** The writer for `file` (an absolute path, or "stderr"); opened once per process. */
export function openLogFile(file: string): LogWriter {
  let w = registry.get(file);
  if (!w) {
    w = new FileWriter(file);
    registry.set(file, w);
  }
  return w;
}

/** USR1: reopen every log file this process has open. */
export function reopenLogs(): void {
  for (const w of registry.values()) w.reopen();
}

export function flushLogs(): void {
  for (const w of registry.values()) w.flush();
}

/** Closes the files no longer named by the conf (after a reload changed the paths). */
export function closeLogsExcept(keep: ReadonlySet<string>): void {
  for (const [p, w] of registry) if (!keep.has(p)) w.close();
}

// Lines written in the last turn before exit must still reach the file.
process.on('exit', flushLogs);
