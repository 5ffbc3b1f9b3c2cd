// src/log: nginx's error line, level filtering, the shared registry with reopen (USR1).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeLogsExcept, ErrorLog, flushLogs, formatErrorLine, openLogFile, reopenLogs } from '../src/log/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-log-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const read = (f: string): string => fs.readFileSync(f, 'utf8');

describe('error log', () => {
  it('formats lines as nginx: time [level] pid#tid: *conn message', () => {
    expect(formatErrorLine('error', 'boom', 5, 1234)).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[error\] 1234#0: \*5 boom\n$/);
    expect(formatErrorLine('notice', 'hi', undefined, 1)).toMatch(/ \[notice\] 1#0: hi\n$/);
  });

  it('writes a level and everything more severe, per target', () => {
    const warn = path.join(dir, 'warn.log');
    const debug = path.join(dir, 'sub', 'debug.log'); // a missing folder is created
    const log = new ErrorLog([{ path: warn, level: 'warn' }, { path: debug, level: 'debug' }], true);
    log.info('info line');
    log.warn('warn line');
    log.emerg('emerg line');
    expect(read(warn)).not.toContain('info line');
    expect(read(warn)).toContain('[warn]');
    expect(read(warn)).toContain('[emerg]');
    expect(read(debug)).toContain('info line');
    expect(log.enabled('debug')).toBe(true);
    expect(new ErrorLog([{ path: warn, level: 'error' }]).enabled('warn')).toBe(false);
  });

  it('batches lines until the end of the turn (or flush)', async () => {
    const f = path.join(dir, 'batch.log');
    const w = openLogFile(f);
    expect(openLogFile(f)).toBe(w); // one writer per path
    w.write('a\n');
    w.write('b\n');
    expect(fs.existsSync(f) ? read(f) : '').toBe('');
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(read(f)).toBe('a\nb\n');
  });

  it('reopens after logrotate moved the file', () => {
    const f = path.join(dir, 'rot.log');
    const w = openLogFile(f);
    w.write('before\n');
    w.flush();
    fs.renameSync(f, `${f}.1`);
    w.write('still old\n');
    reopenLogs(); // flushes to the old file first
    w.write('after\n');
    flushLogs();
    expect(read(`${f}.1`)).toBe('before\nstill old\n');
    expect(read(f)).toBe('after\n');
  });

  it('a closed writer opens its file again when written to', () => {
    const f = path.join(dir, 'closed.log');
    const w = openLogFile(f);
    w.write('one\n');
    closeLogsExcept(new Set());
    w.write('two\n');
    w.flush();
    expect(read(f)).toBe('one\ntwo\n');
  });
});
