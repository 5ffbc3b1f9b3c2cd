// proxy_cookie_domain / proxy_cookie_path / proxy_cookie_flags: an upstream's Set-Cookie
// rewritten as nginx 1.22 does.
// - domain and path: the first rule that matches wins. A string FROM is a case-insensitive whole
//   match of the domain (a leading dot is kept out of the match and kept in the answer) or a
//   case-sensitive prefix of the path (the prefix is replaced); a regex (`~`, `~*`) replaces the
//   whole value, with its captures as $1.. in TO, which may hold variables.
// - flags: the first rule whose cookie (a case-insensitive name, or a `~` regex) names the
//   cookie adds or removes Secure and HttpOnly and sets or removes SameSite; flags may hold
//   variables and unknown ones do nothing, as nginx's.
// A header that changed is written back as nginx writes it: its `;`-separated attributes
// trimmed, each `key=value` trimmed on both sides of `=`, joined with "; " (empty ones kept); one
// that did not change, or is no cookie (no `=` in its first part), goes out as it came.

import type { CookieFlagsRule, CookieRule, ProxyConf } from '../config/types-gateway.js';
import type { Req } from '../request/req.js';
import type { Template } from './request.js';

export type CookieRewrite = (r: Req, value: string) => string;

interface Compiled { readonly rule: CookieRule; readonly to: Template }
interface CompiledFlags { readonly rule: CookieFlagsRule; readonly flags: readonly Template[] }

/** One attribute: its key and value, trimmed; `value` null when it had no `=`. */
interface Attr { key: string; value: string | null }

export function cookieRewrite(conf: ProxyConf, compile: (text: string) => Template): CookieRewrite | null {
  if (conf.cookieDomains.length === 0 && conf.cookiePaths.length === 0 && conf.cookieFlags.length === 0) return null;
  const domains: Compiled[] = conf.cookieDomains.map((rule) => ({ rule, to: compile(rule.to) }));
  const paths: Compiled[] = conf.cookiePaths.map((rule) => ({ rule, to: compile(rule.to) }));
  const flags: CompiledFlags[] = conf.cookieFlags.map((rule) => ({ rule, flags: rule.flags.map(compile) }));
  return (r, header) => {
    const attrs = parse(header);
    if (attrs === null) return header;
    let changed = false;
    for (let i = 1; i < attrs.length; i++) {
      const a = attrs[i]!;
      if (a.value === null) continue;
      const k = a.key.toLowerCase();
      const out = k === 'domain' && domains.length > 0 ? rewriteDomain(r, a.value, domains)
        : k === 'path' && paths.length > 0 ? rewritePath(r, a.value, paths) : null;
      if (out !== null) { a.value = out; changed = true; }
    }
    if (flags.length > 0 && applyFlags(r, attrs, flags)) changed = true;
    return changed ? serialize(attrs) : header;
  };
}

/** The attributes, or null for a header that is no cookie (its first part has no `=`). */
function parse(header: string): Attr[] | null {
  const out: Attr[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    out.push(eq < 0 ? { key: part.trim(), value: null } : { key: part.slice(0, eq).trim(), value: part.slice(eq + 1).trim() });
  }
  return out[0]!.value === null ? null : out;
}

function serialize(attrs: readonly Attr[]): string {
  return attrs.map((a) => (a.value === null ? a.key : `${a.key}=${a.value}`)).join('; ');
}

function rewriteDomain(r: Req, value: string, rules: readonly Compiled[]): string | null {
  // A string compares without the leading dot, which stays (nginx 1.22); a regex sees it all.
  const dot = value.startsWith('.') ? '.' : '';
  const v = value.slice(dot.length).toLowerCase();
  return firstRule(r, value, rules, (from, to) => (from.toLowerCase() === v ? dot + to() : null));
}

function rewritePath(r: Req, value: string, rules: readonly Compiled[]): string | null {
  return firstRule(r, value, rules, (from, to) => (value.startsWith(from) ? to() + value.slice(from.length) : null));
}

/** The first rule that matches, rewritten: a regex replaces the whole value (its captures for TO);
 *  a string FROM is `plain`'s to match and rewrite (domain and path differ there only). */
function firstRule(r: Req, value: string, rules: readonly Compiled[], plain: (from: string, to: () => string) => string | null): string | null {
  for (const { rule, to } of rules) {
    if (rule.regex !== null) {
      const m = rule.regex.exec(value);
      if (m === null) continue;
      r.captures = m;
      return to(r);
    }
    const out = plain(rule.from, () => to(r));
    if (out !== null) return out;
  }
  return null;
}

/** The first rule naming the cookie, its flags applied; true when one named it. */
function applyFlags(r: Req, attrs: Attr[], rules: readonly CompiledFlags[]): boolean {
  const name = attrs[0]!.key;
  const hit = rules.find(({ rule }) => (rule.regex !== null ? rule.regex.test(name) : rule.name.toLowerCase() === name.toLowerCase()));
  if (hit === undefined) return false;
  let secure: boolean | null = null;
  let httpOnly: boolean | null = null;
  let sameSite: string | false | null = null; // a value, false (remove), null (leave)
  for (const f of hit.flags) {
    switch (f(r).toLowerCase()) {
      case 'secure': secure = true; break;
      case 'nosecure': secure = false; break;
      case 'httponly': httpOnly = true; break;
      case 'nohttponly': httpOnly = false; break;
      case 'samesite=strict': sameSite = 'Strict'; break;
      case 'samesite=lax': sameSite = 'Lax'; break;
      case 'samesite=none': sameSite = 'None'; break;
      case 'nosamesite': sameSite = false; break;
      default: break;
    }
  }
  const has = (key: string): number => attrs.findIndex((a, i) => i > 0 && a.key.toLowerCase() === key);
  const drop = (key: string): void => {
    for (let i = attrs.length - 1; i > 0; i--) if (attrs[i]!.key.toLowerCase() === key) attrs.splice(i, 1);
  };
  if (secure === false) drop('secure');
  if (httpOnly === false) drop('httponly');
  if (sameSite === false) drop('samesite');
  // nginx sets the first SameSite in place and appends what is missing: Secure, HttpOnly, SameSite.
  const at = has('samesite');
  if (typeof sameSite === 'string' && at > 0) attrs[at] = { key: 'SameSite', value: sameSite };
  if (secure === true && has('secure') < 0) attrs.push({ key: 'Secure', value: null });
  if (httpOnly === true && has('httponly') < 0) attrs.push({ key: 'HttpOnly', value: null });
  if (typeof sameSite === 'string' && at < 0) attrs.push({ key: 'SameSite', value: sameSite });
  return true;
}
