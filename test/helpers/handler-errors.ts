// The error-log entry of a handler's throw outside a request (a timer, ssl_certificate_by_*), as
// test/compat-handler-errors*.test.ts check it on tresty (`js`, the code) and on nginx + lua.

/**
 * `[error] P#T: *N LANG entry thread aborted: runtime error: ...MSG[ (TRESTY_ERR_HANDLER)]`, the
 * traceback, and the last line ending with `tail` (a regex source: `, context: ngx\.timer`...).
 */
export function abortedEntry(lang: string, code: boolean, msg: string, tail: string, thread = 'entry'): RegExp {
  return new RegExp(`\\[error\\] \\d+#\\d+: \\*\\d+ ${lang} ${thread} thread aborted: runtime error: [^\\n]*${msg}${code ? ' \\(TRESTY_ERR_HANDLER\\)' : ''}\\n`
    + `stack traceback:\\n(?:(?!\\d{4}/\\d\\d/\\d\\d )[^\\n]*\\n)*?[^\\n]*${tail}\\n`);
}

/** `, context: ngx.timer` and, for a timer made in a request, `, client: 127.0.0.1, server: 127.0.0.1:PORT`. */
export function timerTail(peer: boolean, port = '\\d+'): string {
  return `, context: ngx\\.timer${peer ? `, client: 127\\.0\\.0\\.1, server: 127\\.0\\.0\\.1:${port}` : ''}`;
}
