// ssl_* directives (nginx's ngx_http_ssl_module) for servers with `listen ... ssl`: certificate
// pairs (several: RSA and ECDSA side by side), protocols, ciphers, the session cache and tickets,
// ssl_conf_command (OpenSSL's own commands, after the rest), ssl_engine, ssl_password_file and
// ssl_certificate_by_js_* (a handler that picks the certificate of a handshake).

import crypto from 'node:crypto';
import type { Directive } from './ast.js';
import type { BlockState } from './builders.js';
import type { SslSettings } from './builders-gateway.js';
import { handler } from './directives-js.js';
import { passwordFile, protocols } from './directives-proxy.js';
import { confCommand } from './ssl-conf-command.js';
import { confError, confWarning, type DirectiveRow, flagError, invalidValue } from './table.js';
import { parseFlag, parseSize, parseTime } from './values.js';

const HS = ['http', 'server'] as const;

function ssl(s: BlockState): SslSettings {
  return (s.settings!.ssl ??= {});
}

/** `off | none | builtin[:N] | shared:NAME:SIZE` → sessions kept per worker (nginx: ~4000 per MB). */
function sessionCache(d: Directive): number {
  let n = 0;
  for (const a of d.args) {
    if ((a === 'off' || a === 'none') && d.args.length === 1) return 0;
    let m = /^builtin(?::(\d+))?$/.exec(a);
    if (m) { n += m[1] === undefined ? 20480 : Number(m[1]); continue; }
    m = /^shared:[^:]+:(.+)$/.exec(a);
    const bytes = m ? parseSize(m[1]) : null;
    if (bytes === null) throw confError('TRESTY_ERR_CONF_VALUE', `invalid session cache "${a}"`, d);
    n += Math.floor(bytes / 256);
  }
  return n;
}

export const sslDirectives: readonly DirectiveRow[] = [
  {
    // nginx's ENGINE_by_id + ENGINE_set_default(ALL). Both TLS paths use Node's OpenSSL, and every
    // process (master, -t, each worker) loads the conf, so setting it here sets it everywhere.
    name: 'ssl_engine', contexts: ['main'], args: [1, 1],
    apply(d) {
      try {
        crypto.setEngine(d.args[0], crypto.constants.ENGINE_METHOD_ALL);
      } catch (e) {
        throw confError('TRESTY_ERR_CONF_VALUE', `ENGINE_by_id("${d.args[0]}") failed (${(e as Error).message})`, d);
      }
    },
  },
  {
    // nginx 1.22 still takes it, with a warning: the server's listens become TLS (resolve.ts).
    name: 'ssl', contexts: HS, args: [1, 1],
    apply(d, s) {
      confWarning(s.main, 'the "ssl" directive is deprecated, use the "listen ... ssl" directive instead', d);
      const f = parseFlag(d.args[0]);
      if (f === null) throw flagError(d);
      const x = ssl(s);
      x.enable = f;
      x.enableRef = { file: d.file, line: d.line };
    },
  },
  {
    name: 'ssl_certificate', contexts: HS, args: [1, 1], multiple: true,
    apply(d, s, ctx) { const x = ssl(s); x.certRef ??= { file: d.file, line: d.line }; (x.certificates ??= []).push(ctx.abs(d.args[0])); },
  },
  {
    name: 'ssl_certificate_key', contexts: HS, args: [1, 1], multiple: true,
    apply(d, s, ctx) { const x = ssl(s); x.certRef ??= { file: d.file, line: d.line }; (x.keys ??= []).push(ctx.abs(d.args[0])); },
  },
  {
    // read at load, as nginx reads it: the passphrases tried in order on each ssl_certificate_key
    name: 'ssl_password_file', contexts: HS, args: [1, 1],
    apply(d, s, ctx) { ssl(s).passwords = passwordFile(d, ctx.abs(d.args[0])); },
  },
  { name: 'ssl_protocols', contexts: HS, args: [1, 6], apply(d, s) { ssl(s).protocols = protocols(d); } },
  { name: 'ssl_ciphers', contexts: HS, args: [1, 1], apply(d, s) { ssl(s).ciphers = d.args[0]; } },
  { name: 'ssl_ecdh_curve', contexts: HS, args: [1, 1], apply(d, s) { ssl(s).ecdhCurve = d.args[0]; } },
  {
    name: 'ssl_prefer_server_ciphers', contexts: HS, args: [1, 1],
    apply(d, s) { const f = parseFlag(d.args[0]); if (f === null) throw flagError(d); ssl(s).preferServerCiphers = f; },
  },
  {
    name: 'ssl_session_tickets', contexts: HS, args: [1, 1],
    apply(d, s) { const f = parseFlag(d.args[0]); if (f === null) throw flagError(d); ssl(s).sessionTickets = f; },
  },
  { name: 'ssl_session_cache', contexts: HS, args: [1, 2], apply(d, s) { ssl(s).sessionCache = sessionCache(d); } },
  {
    name: 'ssl_session_timeout', contexts: HS, args: [1, 1],
    apply(d, s) { const t = parseTime(d.args[0]); if (t === null) throw invalidValue(d, d.args[0]); ssl(s).sessionTimeout = t; },
  },
  {
    // applied after the other settings, as nginx does (native engine: SSL_CONF_cmd; node:tls: mapped)
    name: 'ssl_conf_command', contexts: HS, args: [2, 2], multiple: true,
    apply(d, s, ctx) { (ssl(s).confCommands ??= []).push(confCommand(d, ctx.abs)); },
  },
  {
    name: 'ssl_certificate_by_js_block', contexts: HS, args: [0, 0], block: 'raw', dupKey: 'ssl_certificate_by_js',
    apply(d, s, ctx) { ssl(s).certificateHandler = handler('ssl_certificate', d, ctx); },
  },
  {
    name: 'ssl_certificate_by_js_file', contexts: HS, args: [1, 1], dupKey: 'ssl_certificate_by_js',
    apply(d, s, ctx) { ssl(s).certificateHandler = handler('ssl_certificate', d, ctx, d.args[0]); },
  },
];
