// proxy_cookie_domain / proxy_cookie_path: the `domain=` and `path=` attributes of an upstream's
// Set-Cookie rewritten as nginx 1.22 does. The first rule that matches wins. A string FROM is a
// case-insensitive whole match of the domain (a leading dot is kept out of the match and kept in
// the answer) or a
// case-sensitive prefix of the path (the prefix is replaced); a regex (`~`, `~*`) replaces the
// whole value, with its captures as $1.. in TO, which may hold variables.

import type { CookieRule, ProxyConf } from '../config/types-gateway.js';
import type { Req } from '../request/req.js';
import type { Template } from './request.js';

export type CookieRewrite = (r: Req, value: string) => string;

interface Compiled { readonly rule: CookieRule; readonly to: Template }

export function cookieRewrite(conf: ProxyConf, compile: (text: string) => Template): CookieRewrite | null {
  if (conf.cookieDomains.length === 0 && conf.cookiePaths.length === 0) return null;
  const domains: Compiled[] = conf.cookieDomains.map((rule) => ({ rule, to: compile(rule.to) }));
  const paths: Compiled[] = conf.cookiePaths.map((rule) => ({ rule, to: compile(rule.to) }));
  return (r, header) => {
    // Attributes after the name=value pair: `; Name=Value` each.
    return header.replace(/(;[ \t]*)(domain|path)(=)([^;]*)/gi, (all, sep: string, name: string, eq: string, value: string) => {
      const isDomain = name.toLowerCase() === 'domain';
      const out = isDomain ? rewriteDomain(r, value, domains) : rewritePath(r, value, paths);
      return out === null ? all : sep + name + eq + out;
    });
  };
}

function rewriteDomain(r: Req, value: string, rules: readonly Compiled[]): string | null {
  // A string compares without the leading dot, which stays (nginx 1.22); a regex sees it all.
  const dot = value.startsWith('.') ? '.' : '';
  const v = value.slice(dot.length);
  for (const { rule, to } of rules) {
    if (rule.regex !== null) {
      const m = rule.regex.exec(value);
      if (m === null) continue;
      r.captures = m;
      return to(r);
    }
    if (rule.from.toLowerCase() === v.toLowerCase()) return dot + to(r);
  }
  return null;
}

function rewritePath(r: Req, value: string, rules: readonly Compiled[]): string | null {
  for (const { rule, to } of rules) {
    if (rule.regex !== null) {
      const m = rule.regex.exec(value);
      if (m === null) continue;
      r.captures = m;
      return to(r);
    }
    if (value.startsWith(rule.from)) return to(r) + value.slice(rule.from.length);
  }
  return null;
}
