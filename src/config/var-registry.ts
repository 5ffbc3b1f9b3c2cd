// The one list of variable names a conf may use: nginx checks every `$name` of the conf once the
// whole conf is read, and refuses a name no module and no `set` / `map` / regex declares
// (`unknown "foo" variable`). Declarations count from anywhere in http{}, before or after the use.

import { ConfError } from '../errors.js';
import { BUILTIN_VAR_NAMES, UPSTREAM_VAR_NAMES } from './var-names.js';

/** The proxy module's own, computed by request/upstream.ts. */
const PROXY_VAR_NAMES = ['proxy_host', 'proxy_port', 'proxy_add_x_forwarded_for'];

/**
 * Names nginx 1.22 (Debian's build, the reference) knows that tresty does not compute: a conf
 * using one loads, as on nginx, and the variable reads as not found. test/conf-unknown-vars checks
 * each against `nginx -t`.
 */
export const NGINX_ONLY_VAR_NAMES: readonly string[] = [
  'gzip_ratio', 'date_local', 'date_gmt', 'ssl_early_data', 'ssl_alpn_protocol', 'ssl_client_s_dn_legacy',
  'ssl_client_i_dn_legacy', 'proxy_protocol_addr', 'proxy_protocol_port', 'proxy_protocol_server_addr',
  'proxy_protocol_server_port', 'tcpinfo_rtt', 'tcpinfo_rttvar', 'tcpinfo_snd_cwnd', 'tcpinfo_rcv_space',
  'fastcgi_script_name', 'fastcgi_path_info', 'slice_range',
  'upstream_response_length',
];

/** nginx's prefixed families (ngx_http_variables_init_vars): any name starting so is known. */
export const VAR_PREFIXES: readonly string[] = [
  'arg_', 'http_', 'sent_http_', 'sent_trailer_', 'cookie_', 'upstream_http_', 'upstream_trailer_', 'upstream_cookie_',
];

const KNOWN: ReadonlySet<string> = new Set([...BUILTIN_VAR_NAMES, ...UPSTREAM_VAR_NAMES, ...PROXY_VAR_NAMES, ...NGINX_ONLY_VAR_NAMES]);

/** One `$name` of the conf, where it stands. */
export interface VarUse {
  readonly name: string;
  readonly file: string;
  readonly line: number;
}

/** What the conf walk collects: the names it declares and every name it uses. */
export interface VarRegistry {
  readonly declared: Set<string>;
  readonly uses: VarUse[];
}

export function newVarRegistry(): VarRegistry {
  return { declared: new Set(), uses: [] };
}

/** True when nginx would know `$name` in a conf that declares `declared` (names compare caseless, as nginx's). */
export function isKnownVar(name: string, declared: ReadonlySet<string>): boolean {
  const low = name.toLowerCase();
  if (/^[0-9]$/.test(low) || KNOWN.has(low) || declared.has(low)) return true;
  return VAR_PREFIXES.some((p) => low.startsWith(p));
}

/** The conf's first use of an unknown name, as nginx's emerg (with the use's file:line, which nginx leaves out). */
export function checkVarUses(reg: VarRegistry): void {
  for (const u of reg.uses) {
    if (!isKnownVar(u.name, reg.declared)) {
      throw new ConfError('TRESTY_ERR_CONF_UNKNOWN_VAR', `unknown "${u.name}" variable`, u.file, u.line);
    }
  }
}
