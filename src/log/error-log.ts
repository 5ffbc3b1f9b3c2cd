// error_log: nginx's line format and levels.
//   2026/11/21 10:00:00 [error] 1234#0: *5 message
import type { ErrorLogSpec, LogLevel } from '../config/types.js';
import { openLogFile, type LogWriter } from './files.js';

/** Most severe first, as nginx numbers them: a target at level L takes L and everything above. */
export const LOG_LEVELS: readonly LogLevel[] = ['emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug'];
const rank: Record<LogLevel, number> = Object.fromEntries(LOG_LEVELS.map((l, i) => [l, i])) as Record<LogLevel, number>;

let cachedSecond = -1;
let cachedStamp = '';
const two = (n: number): string => (n < 10 ? '0' : '') + n;

/** Local time as nginx prints it, computed once per second. */
export function logTime(now = Date.now()): string {
  const sec = Math.floor(now / 1000);
  if (sec !== cachedSecond) {
    const d = new Date(sec * 1000);
    cachedSecond = sec;
    cachedStamp = `${d.getFullYear()}/${two(d.getMonth() + 1)}/${two(d.getDate())} `
      + `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  }
  return cachedStamp;
}

export function formatErrorLine(level: LogLevel, message: string, connection?: number, pid = process.pid): string {
  const conn = connection === undefined ? '' : `*${connection} `;
  return `${logTime()} [${level}] ${pid}#0: ${conn}${message}\n`;
}

interface Target { writer: LogWriter; max: number }

/** A char that is a byte above ASCII: written as that byte, not as UTF-8. */
const HIGH = /[\x80-\xff]/;

export class ErrorLog {
  private targets: Target[] = [];
  /** The least severe level any target takes: a cheap early exit for debug lines. */
  private max = rank.error;

  /**
   * `sync`: every line is on disk when log() returns (the master: few lines, and a tool that
   * sees an event may read the log right away). Otherwise lines go out once per turn.
   */
  constructor(specs: readonly ErrorLogSpec[] = [{ path: 'stderr', level: 'error' }], private readonly sync = false) {
    this.configure(specs);
  }

  /** Points the log at new targets (after a reload); opening a file may throw TRESTY_ERR_LOG_OPEN. */
  configure(specs: readonly ErrorLogSpec[]): void {
    const list = specs.length > 0 ? specs : [{ path: 'stderr', level: 'error' as LogLevel }];
    this.targets = list.map((s) => ({ writer: openLogFile(s.path), max: rank[s.level] }));
    this.max = Math.max(...this.targets.map((t) => t.max));
  }

  paths(): string[] {
    return this.targets.map((t) => t.writer.path);
  }

  enabled(level: LogLevel): boolean {
    return rank[level] <= this.max;
  }

  /**
   * `bytes`: the rest of the line as a client sent it, one char per byte (the request line, a
   * header, nginx's context): written byte for byte as nginx does, where `message` (the words of
   * tresty or of a handler) is written as UTF-8.
   */
  log(level: LogLevel, message: string, connection?: number, bytes?: string): void {
    const r = rank[level];
    if (r > this.max) return;
    let line: string | Buffer;
    if (bytes === undefined || !HIGH.test(bytes)) {
      line = formatErrorLine(level, bytes === undefined ? message : message + bytes, connection);
    } else {
      const head = formatErrorLine(level, message, connection);
      line = Buffer.concat([Buffer.from(head.slice(0, -1)), Buffer.from(`${bytes}\n`, 'latin1')]);
    }
    for (const t of this.targets) {
      if (r > t.max) continue;
      t.writer.write(line);
      if (this.sync) t.writer.flush();
    }
  }

  /** Writes now: for the last lines before a process exits on purpose. */
  flush(): void {
    for (const t of this.targets) t.writer.flush();
  }

  /** A line wholly made of bytes as received (see log()). */
  bytes(level: LogLevel, text: string, connection?: number): void { this.log(level, '', connection, text); }

  emerg(m: string): void { this.log('emerg', m); }
  alert(m: string): void { this.log('alert', m); }
  crit(m: string): void { this.log('crit', m); }
  error(m: string): void { this.log('error', m); }
  warn(m: string): void { this.log('warn', m); }
  notice(m: string): void { this.log('notice', m); }
  info(m: string): void { this.log('info', m); }
  debug(m: string): void { this.log('debug', m); }
}
