// The names of tresty's built-in variables (api/vars.ts computes them), here in a leaf module so
// the conf loader can refuse to redeclare one without importing api/ (a folder cycle).
// test/var-names.test.ts checks this list against api/vars.ts's getters.

/** Every name api/vars.ts's BUILTIN table computes. */
export const BUILTIN_VAR_NAMES: readonly string[] = [
  'uri', 'document_uri', 'args', 'query_string', 'is_args', 'request_uri', 'request_method',
  'request', 'server_protocol', 'scheme', 'https', 'host', 'hostname', 'server_name', 'server_addr',
  'server_port', 'remote_addr', 'binary_remote_addr', 'remote_port', 'realip_remote_addr',
  'realip_remote_port', 'limit_req_status', 'limit_conn_status', 'limit_rate', 'remote_user',
  'status', 'request_time', 'body_bytes_sent', 'bytes_sent', 'request_length', 'time_local',
  'time_iso8601', 'msec', 'pid', 'content_type', 'content_length', 'document_root', 'realpath_root',
  'request_filename', 'request_body', 'request_body_file', 'request_completion', 'request_id', 'connection',
  'connection_requests', 'connection_time', 'pipe', 'http2', 'nginx_version', 'invalid_referer',
  'secure_link', 'secure_link_expires', 'uid_got', 'uid_set', 'uid_reset',
  'msie', 'modern_browser', 'ancient_browser',
  // stub_status's (status/counters.ts)
  'connections_active', 'connections_reading', 'connections_writing', 'connections_waiting',
  // the TLS session's (tls/vars.ts)
  'ssl_protocol', 'ssl_cipher', 'ssl_server_name', 'ssl_session_reused', 'ssl_session_id', 'ssl_curve',
  'ssl_client_verify', 'ssl_client_s_dn', 'ssl_client_i_dn', 'ssl_client_serial', 'ssl_client_fingerprint',
  'ssl_client_raw_cert', 'ssl_client_cert', 'ssl_client_escaped_cert', 'ssl_client_v_start', 'ssl_client_v_end',
  'ssl_client_v_remain', 'ssl_ciphers', 'ssl_curves',
];

/** The gateway's own (request/upstream.ts), read-only in nginx too. */
export const UPSTREAM_VAR_NAMES: readonly string[] = [
  'upstream_addr', 'upstream_status', 'upstream_connect_time', 'upstream_header_time',
  'upstream_response_time', 'upstream_bytes_sent', 'upstream_bytes_received', 'upstream_cache_status',
];

/**
 * Built-ins nginx marks changeable: `set` and `map` may take them ($args, $limit_rate, and the
 * proxy module's $proxy_host, $proxy_port, $proxy_add_x_forwarded_for).
 */
const CHANGEABLE = new Set(['args', 'limit_rate', 'invalid_referer', 'uid_reset', 'msie', 'modern_browser', 'ancient_browser']);

const FIXED: ReadonlySet<string> = new Set([...BUILTIN_VAR_NAMES, ...UPSTREAM_VAR_NAMES].filter((n) => !CHANGEABLE.has(n)));

/** True for a built-in that `set $NAME` / `map ... $NAME` must refuse (nginx's "the duplicate" emerg). */
export function isFixedVar(name: string): boolean {
  return FIXED.has(name);
}
