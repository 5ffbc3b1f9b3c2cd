// Logs: the error log (nginx's format and levels) and the shared log-file registry.
export { openLogFile, reopenLogs, flushLogs, closeLogsExcept, type LogWriter } from './files.js';
export { ErrorLog, LOG_LEVELS, formatErrorLine, logTime } from './error-log.js';
export { requestContext, utf8Bytes, type RequestContext } from './context.js';
export { engineNumbersConnections, nextConnection, peerContext, type LogOrigin } from './connections.js';
