// proxy_* directives (nginx's ngx_http_proxy_module): where requests go, what is sent, how
// long to wait, when to try the next server, and how answers come back.

import fs from 'node:fs';
import net from 'node:net';
import type { Directive } from './ast.js';
import type { BlockState, LocationBuilder } from './builders.js';
import type { ProxySettings } from './builders-gateway.js';
import { confError, confWarning, type DirectiveRow, flagError, invalidValue } from './table.js';
import type { ProxyPass } from './types.js';
import { NEXT, type NextCondition } from './types-gateway.js';
import { parseFlag, parseSize, parseTime } from './values.js';
import { describeErrno } from './source.js';
import { confCommand } from './ssl-conf-command.js';

const HSL = ['http', 'server', 'location'] as const;

function proxy(s: BlockState): ProxySettings {
  return (s.settings!.proxy ??= {});
}

function flag(d: Directive): boolean {
  const f = parseFlag(d.args[0]);
  if (f === null) throw flagError(d);
  return f;
}

function time(d: Directive, v = d.args[0]): number {
  const t = parseTime(v);
  if (t === null) throw invalidValue(d, v);
  return t;
}

function size(d: Directive, v = d.args[0]): number {
  const n = parseSize(v);
  if (n === null) throw invalidValue(d, v);
  return n;
}

/** A row that sets one flag, time or size field of the proxy settings. */
function row<K extends keyof ProxySettings>(name: string, key: K, parse: (d: Directive) => ProxySettings[K]): DirectiveRow {
  return { name, contexts: HSL, args: [1, 1], apply(d, s) { proxy(s)[key] = parse(d); } };
}

/** `http://host[:port][/uri]`, `https://...`, `http://unix:/path[:/uri]`, or a URL with variables. */
export function parseProxyPass(d: Directive, loc: LocationBuilder | undefined): ProxyPass {
  const url = d.args[0];
  const m = /^(https?):\/\/(.+)$/i.exec(url);
  if (!m) throw confError('TRESTY_ERR_CONF_VALUE', `invalid URL prefix in "${url}"`, d);
  const scheme = m[1].toLowerCase() as 'http' | 'https';
  const ref = { file: d.file, line: d.line };
  const dflt = scheme === 'https' ? 443 : 80;
  if (url.includes('$')) {
    return { url, dynamic: true, scheme, host: '', port: dflt, proxyHost: '', uri: null, prefix: '', ref };
  }
  let rest = m[2];
  let host: string;
  let port = dflt;
  let uri: string | null = null;
  let authority: string;
  if (rest.startsWith('unix:')) {
    // `unix:/path/to.sock:/uri`: the socket path ends at the first `:` after it.
    const colon = rest.indexOf(':', 5);
    host = colon < 0 ? rest : rest.slice(0, colon);
    uri = colon < 0 ? null : rest.slice(colon + 1) || null;
    port = 0;
    authority = 'localhost'; // nginx's Host (and $proxy_host) for a unix socket
  } else {
    const slash = rest.indexOf('/');
    if (slash >= 0) {
      uri = rest.slice(slash);
      rest = rest.slice(0, slash);
    }
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
    const hp = v6 ? [v6[1], v6[2]] : rest.split(':');
    if (hp.length > 2 || !hp[0]) throw confError('TRESTY_ERR_CONF_VALUE', `invalid host in upstream "${url}"`, d);
    host = hp[0];
    authority = v6 ? `[${host}]` : host;
    if (hp[1] !== undefined) {
      port = Number(hp[1]);
      if (!/^\d+$/.test(hp[1]) || port < 1 || port > 65535) throw confError('TRESTY_ERR_CONF_VALUE', `invalid port in upstream "${url}"`, d);
    }
  }
  const proxyHost = port === dflt || port === 0 ? authority : `${authority}:${port}`;
  let prefix = '';
  if (uri !== null) {
    const mod = loc?.modifier;
    if (mod === '~' || mod === '~*' || mod === '@' || loc === undefined) {
      throw confError('TRESTY_ERR_CONF_VALUE', '"proxy_pass" cannot have URI part in location given by regular expression, '
        + 'or inside named location, or inside "if" statement, or inside "limit_except" block', d);
    }
    prefix = loc.pattern;
  }
  return { url, dynamic: false, scheme, host, port, proxyHost, uri, prefix, ref };
}

function nextUpstream(d: Directive): number {
  let bits = 0;
  for (const a of d.args) {
    if (!(a in NEXT)) throw invalidValue(d, a);
    bits |= NEXT[a as NextCondition];
  }
  if (bits & NEXT.off) {
    if (d.args.length > 1) throw invalidValue(d, 'off');
    return 0;
  }
  return bits;
}

const PROTOCOLS = new Set(['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']);

export function protocols(d: Directive): string[] {
  for (const p of d.args) if (!PROTOCOLS.has(p)) throw invalidValue(d, p);
  return [...d.args];
}

/** nginx's ssl_password_file: each line a passphrase (CR/LF stripped, empty lines skipped). */
export function passwordFile(d: Directive, file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw confError('TRESTY_ERR_CONF_OPEN', `open() "${file}" failed (${-(err.errno ?? 0)}: ${describeErrno(err.code)})`, d);
  }
  return text.split(/\r?\n/).filter((l) => l !== '');
}

function sslRow(name: string, set: (p: NonNullable<ProxySettings['ssl']>, d: Directive, abs: (p: string) => string) => void, args: [number, number] = [1, 1]): DirectiveRow {
  return { name, contexts: HSL, args, apply(d, s, ctx) { set((proxy(s).ssl ??= {}), d, ctx.abs); } };
}

/** A local address as nginx's proxy_bind takes it (ngx_parse_addr_port): an IP, with a port
 *  after `:` (`[v6]:port` for IPv6), no name. null when it is not one. */
export function localAddress(a: string): { host: string; port: number } | null {
  if (net.isIP(a) !== 0) return { host: a, port: 0 };
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(a);
  if (m === null) return null;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port > 65535 || net.isIP(host) !== (m[1] !== undefined ? 6 : 4)) return null;
  return { host, port };
}

export const proxyDirectives: readonly DirectiveRow[] = [
  {
    name: 'proxy_bind', contexts: HSL, args: [1, 2],
    apply(d, s) {
      const [a, t] = d.args as [string, string | undefined];
      if (t !== undefined && t !== 'transparent') throw confError('TRESTY_ERR_CONF_VALUE', `invalid parameter "${t}"`, d);
      if (a === 'off') { proxy(s).bind = null; return; }
      if (!a.includes('$') && localAddress(a) === null) throw confError('TRESTY_ERR_CONF_VALUE', `invalid address "${a}"`, d);
      // IP_TRANSPARENT is a socket option node:net cannot set: the address is bound without it,
      // which works for an address of this host (nginx needs it for a foreign one, as root).
      if (t !== undefined) confWarning(s.main, '"proxy_bind" with "transparent": tresty cannot set IP_TRANSPARENT, the address is bound without it', d);
      proxy(s).bind = { addr: a, transparent: t !== undefined };
    },
  },
  {
    name: 'proxy_pass', contexts: ['location'], args: [1, 1],
    apply(d, s) { proxy(s).pass = parseProxyPass(d, s.location); },
  },
  {
    name: 'proxy_set_header', contexts: HSL, args: [2, 2], multiple: true,
    apply(d, s) { (proxy(s).setHeaders ??= []).push([d.args[0], d.args[1]]); },
  },
  {
    name: 'proxy_hide_header', contexts: HSL, args: [1, 1], multiple: true,
    apply(d, s) { (proxy(s).hideHeaders ??= []).push(d.args[0].toLowerCase()); },
  },
  {
    name: 'proxy_pass_header', contexts: HSL, args: [1, 1], multiple: true,
    apply(d, s) { (proxy(s).passHeaders ??= []).push(d.args[0].toLowerCase()); },
  },
  row('proxy_pass_request_headers', 'passRequestHeaders', flag),
  row('proxy_pass_request_body', 'passRequestBody', flag),
  row('proxy_set_body', 'setBody', (d) => d.args[0]),
  row('proxy_buffering', 'buffering', flag),
  row('proxy_force_ranges', 'forceRanges', flag),
  row('proxy_request_buffering', 'requestBuffering', flag),
  row('proxy_intercept_errors', 'interceptErrors', flag),
  row('proxy_ignore_client_abort', 'ignoreClientAbort', flag),
  row('proxy_connect_timeout', 'connectTimeout', (d) => time(d)),
  row('proxy_send_timeout', 'sendTimeout', (d) => time(d)),
  row('proxy_read_timeout', 'readTimeout', (d) => time(d)),
  row('proxy_next_upstream_timeout', 'nextUpstreamTimeout', (d) => time(d)),
  row('proxy_buffer_size', 'bufferSize', (d) => size(d)),
  // nginx 1.22 takes no variables here (1.27 does): a size, as nginx words its refusal.
  row('proxy_limit_rate', 'limitRate', (d) => {
    const n = parseSize(d.args[0]);
    if (n === null) throw confError('TRESTY_ERR_CONF_VALUE', '"proxy_limit_rate" directive invalid value', d);
    return n;
  }),
  row('client_body_buffer_size', 'clientBodyBufferSize', (d) => size(d)),
  // nginx's optional `level1 [level2 [level3]]` subfolders are accepted and not used: one folder.
  { name: 'client_body_temp_path', contexts: HSL, args: [1, 4], apply(d, s, ctx) { proxy(s).clientBodyTempPath = ctx.abs(d.args[0]); } },
  row('client_body_in_file_only', 'clientBodyInFileOnly', (d) => {
    const v = d.args[0];
    if (v !== 'on' && v !== 'off' && v !== 'clean') throw invalidValue(d, v);
    return v;
  }),
  row('proxy_method', 'method', (d) => d.args[0].toUpperCase()),
  row('proxy_next_upstream_tries', 'nextUpstreamTries', (d) => {
    if (!/^\d+$/.test(d.args[0])) throw invalidValue(d, d.args[0]);
    return Number(d.args[0]);
  }),
  row('proxy_http_version', 'httpVersion', (d) => {
    const v = d.args[0];
    if (v !== '1.0' && v !== '1.1') throw invalidValue(d, v);
    return v;
  }),
  { name: 'proxy_next_upstream', contexts: HSL, args: [1, 12], apply(d, s) { proxy(s).nextUpstream = nextUpstream(d); } },
  {
    name: 'proxy_buffers', contexts: HSL, args: [2, 2],
    apply(d, s) {
      if (!/^[1-9]\d*$/.test(d.args[0])) throw invalidValue(d, d.args[0]);
      proxy(s).buffers = Number(d.args[0]) * size(d, d.args[1]);
    },
  },
  // Accepted for nginx confs: tresty never spools answers to temp files (as with 0), it applies
  // back-pressure to the upstream instead.
  { name: 'proxy_max_temp_file_size', contexts: HSL, args: [1, 1], apply(d) { size(d); } },
  { name: 'proxy_busy_buffers_size', contexts: HSL, args: [1, 1], apply(d) { size(d); } },
  {
    name: 'proxy_redirect', contexts: HSL, args: [1, 2], multiple: true,
    apply(d, s) {
      const p = proxy(s);
      const [a, b] = d.args;
      if (b === undefined) {
        if (a !== 'default' && a !== 'off') throw invalidValue(d, a);
        if (a === 'off') { p.redirects = ['off']; return; }
        (p.redirects ??= []).push('default');
        return;
      }
      (p.redirects ??= []).push({ from: a, to: b });
    },
  },
  sslRow('proxy_ssl_verify', (p, d) => { p.verify = flag(d); }),
  sslRow('proxy_ssl_server_name', (p, d) => { p.serverName = flag(d); }),
  sslRow('proxy_ssl_session_reuse', (p, d) => { p.sessionReuse = flag(d); }),
  sslRow('proxy_ssl_name', (p, d) => { p.name = d.args[0]; }),
  sslRow('proxy_ssl_ciphers', (p, d) => { p.ciphers = d.args[0]; }),
  sslRow('proxy_ssl_protocols', (p, d) => { p.protocols = protocols(d); }, [1, 6]),
  sslRow('proxy_ssl_trusted_certificate', (p, d, abs) => { p.trustedCertificate = abs(d.args[0]); }),
  sslRow('proxy_ssl_certificate', (p, d, abs) => { p.certificate = abs(d.args[0]); }),
  sslRow('proxy_ssl_certificate_key', (p, d, abs) => { p.certificateKey = abs(d.args[0]); }),
  sslRow('proxy_ssl_crl', (p, d, abs) => { p.crl = abs(d.args[0]); }),
  // Read at load, as nginx reads it: one passphrase a line.
  sslRow('proxy_ssl_password_file', (p, d, abs) => { p.passwords = passwordFile(d, abs(d.args[0])); }),
  {
    name: 'proxy_ssl_conf_command', contexts: HSL, args: [2, 2], multiple: true,
    apply(d, s, ctx) { const p = (proxy(s).ssl ??= {}); p.confCommands = [...(p.confCommands ?? []), confCommand(d, ctx.abs)]; },
  },
  sslRow('proxy_ssl_verify_depth', (p, d) => {
    if (!/^\d+$/.test(d.args[0])) throw invalidValue(d, d.args[0]);
    p.verifyDepth = Number(d.args[0]);
  }),
];
