// ssl_conf_command / proxy_ssl_conf_command off the native engine. nginx gives each command to
// OpenSSL's SSL_CONF_cmd; the native engine does too (native/engine/tls_conf.c), and its addon
// checks them at load with nginx's words. node:tls has no SSL_CONF_cmd: the commands with a
// node:tls option are mapped onto it (in order, over the directives' settings, as OpenSSL would
// apply them), and a conf that asks node:tls for one it cannot express is refused at load.

import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import type { SslConfCommand } from '../config/types-gateway.js';
import { ConfError } from '../errors.js';

/** The addon's tlsConfCheck: nginx's error for these [name, value, ...] on a new context, or null. */
export type ConfCheck = (client: boolean, flat: string[]) => string | null;

const checked = new WeakMap<readonly SslConfCommand[], true>();

/**
 * nginx's load-time check (SSL_CONF_cmd on a context made for it): an unknown command or a bad
 * value stops the load with OpenSSL's reasons and the failing command's file:line. `check` null
 * (no addon with TLS): node:tls's own checks are what remains.
 */
export function checkConfCommands(cmds: readonly SslConfCommand[], client: boolean, check: ConfCheck | null): void {
  if (cmds.length === 0 || check === null || checked.has(cmds)) return;
  const flat = (n: number): string[] => cmds.slice(0, n).flatMap((c) => [c.name, c.value]);
  const err = check(client, flat(cmds.length));
  if (err !== null) {
    // the first prefix OpenSSL refuses ends at the culprit
    let i = 0;
    while (i < cmds.length - 1 && check(client, flat(i + 1)) === null) i++;
    throw new ConfError('TRESTY_ERR_CONF_VALUE', err, cmds[i]!.ref.file, cmds[i]!.ref.line);
  }
  checked.set(cmds, true);
}

const C = crypto.constants;

/** Options words node:tls can express: the SSL_OP_ bit, whether the word sets it (or, inverted,
 *  clears it), and whether OpenSSL sets it by default (node:tls can only add bits, never clear). */
const OPTIONS: Record<string, { bit: number; inverted: boolean; byDefault: boolean }> = {
  sessionticket: { bit: C.SSL_OP_NO_TICKET, inverted: true, byDefault: false },
  prioritizechacha: { bit: C.SSL_OP_PRIORITIZE_CHACHA, inverted: false, byDefault: false },
  compression: { bit: C.SSL_OP_NO_COMPRESSION, inverted: true, byDefault: true },
  norenegotiation: { bit: C.SSL_OP_NO_RENEGOTIATION, inverted: false, byDefault: false },
  allownodhekex: { bit: C.SSL_OP_ALLOW_NO_DHE_KEX, inverted: false, byDefault: false },
  encryptthenmac: { bit: C.SSL_OP_NO_ENCRYPT_THEN_MAC, inverted: true, byDefault: false },
  antireplay: { bit: 1 << 24, inverted: true, byDefault: false }, // SSL_OP_NO_ANTI_REPLAY (node has no constant)
  middleboxcompat: { bit: 1 << 20, inverted: false, byDefault: true }, // SSL_OP_ENABLE_MIDDLEBOX_COMPAT
  unsafelegacyrenegotiation: { bit: C.SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION, inverted: false, byDefault: false },
  unsafelegacyserverconnect: { bit: C.SSL_OP_LEGACY_SERVER_CONNECT, inverted: false, byDefault: false },
  noresumptiononrenegotiation: { bit: C.SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION, inverted: false, byDefault: false },
};
/** Words OpenSSL 3 takes and ignores. */
const NO_OPS = new Set(['dhsingle', 'ecdhsingle']);

const VERSION_NAMES: Record<string, tls.SecureVersion> = { tlsv1: 'TLSv1', 'tlsv1.1': 'TLSv1.1', 'tlsv1.2': 'TLSv1.2', 'tlsv1.3': 'TLSv1.3' };

/**
 * `base` (node:tls options from the directives) with the commands applied. A command node:tls
 * has no option for is refused: `directive` names it, `where` says which node:tls it is and what
 * would take it.
 */
export function nodeConfOptions<T extends tls.SecureContextOptions>(cmds: readonly SslConfCommand[], base: T, directive: string, where: string): T {
  if (cmds.length === 0) return base;
  const o: T = { ...base };
  // node:tls's `ciphers` holds both lists: TLS 1.3 suites are its TLS_* names
  const parts = (o.ciphers ?? tls.DEFAULT_CIPHERS).split(':').filter((c) => c !== '');
  let list = parts.filter((c) => !c.startsWith('TLS_')).join(':');
  let suites = parts.filter((c) => c.startsWith('TLS_')).join(':');
  let set = o.secureOptions ?? 0;
  const refuse = (c: SslConfCommand, why = 'node:tls has no option for it'): never => {
    throw new ConfError('TRESTY_ERR_CONF_UNSUPPORTED', `"${directive}" "${c.name}": ${why} (${where})`, c.ref.file, c.ref.line);
  };
  for (const c of cmds) {
    const v = c.value;
    switch (c.name.toLowerCase()) {
      case 'ciphersuites':
        if (v === '' || v.split(':').some((s) => !s.startsWith('TLS_'))) refuse(c, 'node:tls takes TLS 1.3 suites only by their TLS_ names, and not none');
        suites = v;
        break;
      case 'cipherstring': list = v; break;
      case 'minprotocol':
      case 'maxprotocol': {
        const key = c.name.toLowerCase() === 'minprotocol' ? 'minVersion' : 'maxVersion';
        const ver = VERSION_NAMES[v.toLowerCase()];
        if (ver !== undefined) o[key] = ver;
        else if (v.toLowerCase() === 'none') delete o[key];
        else refuse(c, `node:tls has no protocol "${v}"`);
        break;
      }
      case 'groups':
      case 'curves': o.ecdhCurve = v; break;
      case 'ecdhparameters': o.ecdhCurve = /^auto(matic)?$/i.test(v) ? 'auto' : v; break;
      case 'signaturealgorithms': o.sigalgs = v; break;
      case 'dhparameters': o.dhparam = readFile(c, directive); break;
      case 'options':
        for (const word of v.split(',').map((w) => w.trim()).filter((w) => w !== '')) {
          const neg = word.startsWith('-');
          const name = word.replace(/^[-+]/, '').toLowerCase();
          if (NO_OPS.has(name)) continue;
          if (name === 'serverpreference') { o.honorCipherOrder = !neg; continue; }
          const opt = OPTIONS[name];
          if (opt === undefined) refuse(c, `node:tls has no option for "Options ${word}"`);
          const on = opt.inverted ? neg : !neg;
          if (on) set |= opt.bit;
          else if (opt.byDefault) refuse(c, `node:tls cannot clear what "Options ${word}" clears`);
          else set &= ~opt.bit;
        }
        break;
      default:
        refuse(c);
    }
  }
  o.ciphers = [list, suites].filter((x) => x !== '').join(':');
  if (set !== 0 || o.secureOptions !== undefined) o.secureOptions = set;
  return o;
}

function readFile(c: SslConfCommand, directive: string): Buffer {
  try {
    return fs.readFileSync(c.value);
  } catch (e) {
    throw new ConfError('TRESTY_ERR_CONF_OPEN', `"${directive}" "${c.name}": cannot read "${c.value}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      c.ref.file, c.ref.line);
  }
}
