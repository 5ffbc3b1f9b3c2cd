// The pid file: written by the master, read by `tresty -s`.
import fs from 'node:fs';
import path from 'node:path';
import { TrestyError } from '../errors.js';

export function writePidFile(file: string, pid = process.pid): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${pid}\n`);
  } catch (e) {
    throw new TrestyError('TRESTY_ERR_PID', `open() "${file}" failed (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
}

/** Removes the file if it still names this process (a newer master may own it now). */
export function removePidFile(file: string, pid = process.pid): void {
  try {
    if (fs.readFileSync(file, 'utf8').trim() === String(pid)) fs.unlinkSync(file);
  } catch {
    // already gone
  }
}

/** The master's pid, as `tresty -s` finds it; nginx's messages when it cannot. */
export function readPidFile(file: string): number {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new TrestyError('TRESTY_ERR_PID', `open() "${file}" failed (${err.code ?? 'error'}: ${err.message})`, { cause: e });
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new TrestyError('TRESTY_ERR_PID', `invalid PID number "${text.trim()}" in "${file}"`);
  }
  return pid;
}
