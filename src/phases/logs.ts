// The pipeline's view of the logs (src/log): the error log and access-log writers.

import type { MainConf } from '../config/types.js';
import { ErrorLog, openLogFile, type LogWriter } from '../log/index.js';

export type { LogWriter };
export { ErrorLog };

export function openErrorLog(conf: MainConf): ErrorLog {
  return new ErrorLog(conf.errorLog);
}

/** A shared, batched writer (one write per event-loop turn); `stderr` is fd 2. */
export function openAccessLog(file: string): LogWriter {
  return openLogFile(file);
}
