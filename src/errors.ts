// Every error tresty raises has a stable code, defined here and only here.
// Match on `err.code`: it survives crossing a thread or process boundary where the class does not.
// docs/errors.md lists each code; test/errors.test.ts keeps the two in step.

export const ErrorCodes = {
  // configuration
  TRESTY_ERR_CONF_SYNTAX: 'the conf file is not valid nginx syntax',
  TRESTY_ERR_CONF_UNKNOWN_DIRECTIVE: 'a directive tresty does not know',
  TRESTY_ERR_CONF_NOT_ALLOWED: 'a directive used in a block where it is not allowed',
  TRESTY_ERR_CONF_ARGS: 'a directive with the wrong number of arguments',
  TRESTY_ERR_CONF_DUPLICATE: 'a directive given twice where only one is allowed',
  TRESTY_ERR_CONF_VALUE: 'a directive argument with an invalid value',
  TRESTY_ERR_CONF_UNSUPPORTED: 'a directive form nginx accepts that tresty does not implement',
  TRESTY_ERR_CONF_UNKNOWN_VAR: 'a `$name` in the conf that no module, `set`, `map` or regex capture declares',
  TRESTY_ERR_CONF_OPEN: 'a conf or included file that cannot be read',
  TRESTY_ERR_CONF_CACHE: 'a bad proxy_cache_path (its levels, keys_zone, a duplicate zone or folder) or a proxy_cache naming no zone',
  TRESTY_ERR_CONF_HANDLER: 'a handler file or block that fails to load or compile',
  // process control
  TRESTY_ERR_CLI_USAGE: 'a command line tresty does not understand',
  TRESTY_ERR_PID: 'the pid file is missing or names no running master',
  TRESTY_ERR_LISTEN: 'a listen socket that cannot be opened',
  TRESTY_ERR_LOG_OPEN: 'a log file that cannot be opened',
  TRESTY_ERR_WORKER_START: 'a worker process that fails to start',
  TRESTY_ERR_WORKER_USER: 'a worker that cannot switch to the `user` directive\'s user and group',
  TRESTY_ERR_RELOAD: 'a reload whose new workers failed to start (the old ones keep serving)',
  TRESTY_ERR_WORKER_FAULT: 'an exception no request owned: the worker finishes its requests and is replaced',
  TRESTY_ERR_WORKER_BLOCKED: 'an event loop blocked past worker_watchdog_timeout: the worker is killed and replaced',
  // request handling
  TRESTY_ERR_HANDLER: 'a handler, a light thread or a timer callback threw (logged; in rewrite, access or content the request gets a 500)',
  TRESTY_ERR_API_DISABLED: 'an ngx API called in a phase where it is not allowed',
  TRESTY_ERR_API_ARGS: 'an ngx API called with invalid arguments',
  TRESTY_ERR_API_BAD_REQUEST: 'a cosocket used outside the request (or timer) that created it',
  TRESTY_ERR_API_UNSUPPORTED: 'an ngx API used where OpenResty does not support it either (ngx.req.socket over HTTP/2 or in a subrequest)',
  TRESTY_ERR_VAR_UNDECLARED: 'writing an ngx.var variable that was never declared',
  TRESTY_ERR_HEADERS_SENT: 'changing status or headers after they were sent',
  TRESTY_ERR_BODY_TOO_LARGE: 'a request body larger than client_max_body_size',
  TRESTY_ERR_BODY_FILE: 'a request body temp file (client_body_temp_path) or set_body_file file that cannot be used',
  TRESTY_ERR_SUBREQUEST: 'a subrequest that cannot be run',
  TRESTY_ERR_CACHE_IO: 'a proxy_cache folder or entry that cannot be written or read: logged, the request is served uncached',
  TRESTY_ERR_AUTH_SCHEME: 'an auth_basic_user_file password hash in a crypt(3) scheme tresty cannot check',
  // the native HTTP engine
  TRESTY_ERR_ENGINE: 'the native HTTP engine is not built or cannot be used',
  TRESTY_ERR_BODY_INVALID: 'a request body the engine refused (a bad chunked encoding)',
  TRESTY_ERR_CLIENT_GONE: 'the client closed the connection before its request ended',
  TRESTY_ERR_OCSP: 'ssl_stapling could not get a response to staple (responder unreachable, not 200, garbage, not good, failed verification): logged, no staple',
  // FFI
  TRESTY_ERR_FFI_UNAVAILABLE: 'the native host library was not built',
  TRESTY_ERR_FFI_NOT_FOUND: 'a plugin library not found on the search path',
  TRESTY_ERR_FFI_SYMBOL: 'a plugin library without the symbol it needs',
  TRESTY_ERR_FFI_INIT: 'libffi_init returned non-zero',
  TRESTY_ERR_FFI_QUEUE_FULL: 'more calls in flight than max_queue allows',
  TRESTY_ERR_FFI_TIMEOUT: 'a call that got no answer within its timeout',
  TRESTY_ERR_FFI_RUNTIME: 'the runtime answered with rc != 0',
  TRESTY_ERR_FFI_UNLOADED: 'a call to a plugin that was unloaded',
  TRESTY_ERR_FFI_ENCODE: 'a request that the plugin format cannot encode',
  TRESTY_ERR_FFI_DECODE: 'a response that the plugin format cannot decode',
  TRESTY_ERR_FFI_ABORTED: 'a call abandoned because its request went away',
  TRESTY_ERR_FFI_RESPONSE_TOO_LARGE: 'an answer longer than the plugin max_response_size',
  TRESTY_ERR_FFI_BAD_RESPONSE: 'an answer whose length runs past the memory the runtime allocated',
  // shared dictionaries (js_shared_dict)
  TRESTY_ERR_SHDICT_UNAVAILABLE: 'the native shared-dictionary addon was not built',
  TRESTY_ERR_SHDICT_ZONE: 'a js_shared_dict zone that cannot be created or attached',
  // stub_status
  TRESTY_ERR_STATUS_SHM: 'the stub_status counters\' shared page cannot be created or mapped',
  // rack
  TRESTY_ERR_RACK_NO_RESPONSE: 'a middleware that returned no response',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class TrestyError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'TrestyError';
  }
}

/** An error a conf problem raises: nginx's `[emerg]` text, ending `in FILE:LINE`. */
export class ConfError extends TrestyError {
  readonly file: string;
  readonly line: number;
  constructor(code: ErrorCode, message: string, file: string, line: number, options?: { cause?: unknown }) {
    super(code, `${message} in ${file}:${line}`, options);
    this.file = file;
    this.line = line;
    this.name = 'ConfError';
  }
}

export function isTrestyError(e: unknown): e is TrestyError {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string'
    && ((e as { code: string }).code in ErrorCodes);
}
