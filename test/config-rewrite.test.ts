// The rewrite-module directives and their friends as the conf loader reads them: what they
// resolve to, and nginx's messages (ending `in FILE:LINE`) for the mistakes users make.
import { describe, expect, it } from 'vitest';
import { confErrorOf, loadConfText } from './helpers/conf-load.js';
import { parseCondition } from '../src/config/directives-rewrite.js';

const load = (conf: string) => loadConfText(conf, { inConf: true });

const server = (body: string, http = ''): string => `events {} http { ${http} server { listen 127.0.0.1:8080;\n${body}\n} }`;

const errorOf = (conf: string) => confErrorOf(conf, { inConf: true });

describe('rewrite-module directives in the conf', () => {
  it('reads if, rewrite, break, try_files, error_page and internal', () => {
    const conf = load(server(`
      if ($http_x = "y") { return 403; }
      location /a {
        if ($arg_a ~* "^(\\d+)$") { set $v $1; content_by_js_block { ngx.say(1) } }
        rewrite ^/a/(.*)$ /b/$1 last;
        break;
        try_files $uri /index.html =404;
        error_page 404 500 =200 /err;
        internal;
      }`, 'rewrite_by_js_no_postpone on; js_max_pending_timers 10; js_max_running_timers 3;'));
    const srv = conf.http!.servers[0];
    expect(srv.rewriteOps[0]).toMatchObject({ op: 'if', cond: { kind: 'eq', left: '$http_x', right: 'y' }, loc: null });
    const loc = srv.locations[0];
    const iff = loc.rewriteOps[0];
    if (iff.op !== 'if') throw new Error('not an if');
    expect(iff.cond).toMatchObject({ kind: 'regex', negate: false, left: '$arg_a' });
    expect(iff.loc?.handlers.content?.source).toBe('block');
    expect(iff.loc?.root).toBe(loc.root);
    expect(loc.rewriteOps.map((o) => o.op)).toEqual(['if', 'rewrite', 'break']);
    expect(loc.tryFiles).toEqual({ files: ['$uri', '/index.html'], fallback: '=404' });
    expect(loc.errorPages.get(404)).toEqual({ target: '/err', overwrite: 200 });
    expect(loc.errorPages.get(500)).toEqual({ target: '/err', overwrite: 200 });
    expect(loc.internal).toBe(true);
    expect(conf.http).toMatchObject({ rewriteNoPostpone: true, accessNoPostpone: false, maxPendingTimers: 10, maxRunningTimers: 3 });
  });

  it('takes OpenResty\'s defaults for the timer caps', () => {
    expect(load(server('')).http).toMatchObject({ maxPendingTimers: 1024, maxRunningTimers: 256, rewriteNoPostpone: false });
  });

  it('parses the condition forms, with the parentheses as separate tokens or not', () => {
    const d = (args: string[]) => parseCondition({ name: 'if', args, file: 'f', line: 1 });
    expect(d(['($a)'])).toEqual({ kind: 'var', value: '$a' });
    expect(d(['(', '$a', ')'])).toEqual({ kind: 'var', value: '$a' });
    expect(d(['($a', '!=', 'b)'])).toEqual({ kind: 'eq', negate: true, left: '$a', right: 'b' });
    expect(d(['($a', '=', 'b', ')'])).toEqual({ kind: 'eq', negate: false, left: '$a', right: 'b' });
    expect(d(['(!-f', '$p)'])).toEqual({ kind: 'file', negate: true, test: 'f', path: '$p' });
    expect(d(['($a', '!~*', 'X)'])).toMatchObject({ kind: 'regex', negate: true });
  });

  it('names FILE:LINE for a bad condition, a bad flag, a bad error_page code and misplaced directives', () => {
    expect(errorOf(server('location / { if ($a =) { } }')).message).toMatch(/invalid condition .* in .*nginx\.conf:2$/);
    expect(errorOf(server('location / { if (a = b) { } }')).message).toMatch(/invalid condition/);
    expect(errorOf(server('location / { if ($a <> b) { } }')).message).toMatch(/unexpected "<>" in condition/);
    expect(errorOf(server('location / { rewrite ^ /x forever; }')).message).toMatch(/invalid parameter "forever" in .*nginx\.conf:2$/);
    expect(errorOf(server('location / { rewrite "(" /x; }')).code).toBe('TRESTY_ERR_CONF_VALUE');
    expect(errorOf(server('error_page 200 /x;')).message).toMatch(/value "200" must be between 300 and 599/);
    expect(errorOf(server('try_files $uri =404;'))).toMatchObject({ code: 'TRESTY_ERR_CONF_NOT_ALLOWED', message: expect.stringMatching(/"try_files" directive is not allowed here/) });
    expect(errorOf(server('location / { if ($a) { if ($b) { } } }')).message).toMatch(/"if" directive is not allowed here/);
    expect(errorOf(server('if ($a) { content_by_js_block { } }')).message).toMatch(/"content_by_js_block" directive is not allowed here/);
    expect(errorOf(server('location / { if ($a) { try_files $uri =404; } }')).message).toMatch(/"try_files" directive is not allowed here/);
    expect(errorOf(server('', 'js_max_pending_timers lots;')).message).toMatch(/invalid number "lots"/);
  });
});
