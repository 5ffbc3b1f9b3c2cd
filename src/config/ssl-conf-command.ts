// `ssl_conf_command NAME VALUE` and `proxy_ssl_conf_command NAME VALUE`: kept as written, in order,
// for OpenSSL's SSL_CONF_cmd (src/tls/conf-commands.ts checks them and maps them for node:tls).

import type { Directive } from './ast.js';
import type { SslConfCommand } from './types-gateway.js';

/** OpenSSL's commands whose value is a file or a folder: nginx makes a relative one absolute
 *  (from the conf's prefix, as ssl_certificate's). Names are case-insensitive in a conf file. */
const FILE_COMMANDS = new Set(['certificate', 'privatekey', 'serverinfofile', 'dhparameters', 'chaincafile', 'chaincapath',
  'chaincastore', 'verifycafile', 'verifycapath', 'verifycastore', 'requestcafile', 'clientcafile', 'requestcapath',
  'clientcapath', 'requestcastore', 'clientcastore']);

export function confCommand(d: Directive, abs: (p: string) => string): SslConfCommand {
  const [name, value] = d.args as [string, string];
  return { name, value: FILE_COMMANDS.has(name.toLowerCase()) ? abs(value) : value, ref: { file: d.file, line: d.line } };
}
