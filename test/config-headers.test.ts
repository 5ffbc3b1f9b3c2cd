// The response-header directives' conf: nginx's (and headers-more's) syntax checks and messages,
// with file:line, and how add_header / expires / more_* lists are inherited.
import { describe, expect, it } from 'vitest';
import { confErrorOf, loadConfText } from './helpers/conf-load.js';
import { nginxConfError, nginxMissing } from './helpers/nginx.js';
import type { LocationConf } from '../src/config/types.js';

const load = (conf: string) => loadConfText(conf);
const errorOf = (conf: string) => confErrorOf(conf);

const inLocation = (d: string): string => `http {\n server {\n  location / {\n   ${d}\n  }\n }\n}`;

describe('response-header directives: conf errors as nginx 1.22 / headers-more 0.34 word them', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['expires 1x;', 'TRESTY_ERR_CONF_VALUE', /^"expires" directive invalid value in .*nginx\.conf:4$/],
    ['expires 500ms;', 'TRESTY_ERR_CONF_VALUE', /^"expires" directive invalid value in .*:4$/],
    ['expires foo 1h;', 'TRESTY_ERR_CONF_VALUE', /^"expires" directive invalid value in .*:4$/],
    ['expires modified @1h;', 'TRESTY_ERR_CONF_VALUE', /daily time cannot be used with "modified" parameter in .*:4$/],
    ['expires @25h;', 'TRESTY_ERR_CONF_VALUE', /daily time value must be less than 24 hours in .*:4$/],
    ['expires 1h; expires 2h;', 'TRESTY_ERR_CONF_DUPLICATE', /"expires" directive is duplicate in .*:4$/],
    ['expires $v;', 'TRESTY_ERR_CONF_UNSUPPORTED', /"expires" with variables is not supported by tresty in .*:4$/],
    ['add_header X a b;', 'TRESTY_ERR_CONF_VALUE', /^invalid parameter "b" in .*:4$/],
    ['add_header X;', 'TRESTY_ERR_CONF_ARGS', /invalid number of arguments in "add_header" directive in .*:4$/],
    ['more_set_headers -s abc "X: y";', 'TRESTY_ERR_CONF_VALUE', /more_set_headers: invalid digit "a" found in the status code list "abc" in .*:4$/],
    ['more_set_headers -s;', 'TRESTY_ERR_CONF_VALUE', /more_set_headers: option -s takes an argument\. in .*:4$/],
    ['more_clear_headers;', 'TRESTY_ERR_CONF_ARGS', /invalid number of arguments in "more_clear_headers" directive in .*:4$/],
    ['charset utf-8; source_charset koi8-r;', 'TRESTY_ERR_CONF_UNSUPPORTED', /tresty does not recode: "source_charset koi8-r" differs from "charset utf-8" in .*:4$/],
    ['override_charset yes;', 'TRESTY_ERR_CONF_VALUE', /it must be "on" or "off" in .*:4$/],
    ['more_clear_input_headers -r X;', 'TRESTY_ERR_CONF_VALUE', /more_clear_input_headers: invalid option name: "-r" in .*:4$/],
  ];
  for (const [d, code, msg] of cases) {
    it(d, () => {
      const e = errorOf(inLocation(d));
      expect(e.code).toBe(code);
      expect(e.message).toMatch(msg);
    });
  }
});

describe('response-header directives: inheritance', () => {
  const conf = load(`http {
    add_header X-Http h; expires 1h; more_set_headers "X-M: http";
    server {
      location /a { }
      location /b { add_header X-B b always; expires off; }
      location /c { more_clear_headers X-M; location /c/d { } }
      location /e { if ($arg_x) { add_header X-If i; } }
    }
  }`);
  const loc = (p: string): LocationConf => {
    const all = conf.http!.servers[0].locations;
    return all.find((l) => l.pattern === p) ?? all.flatMap((l) => l.locations).find((l) => l.pattern === p)!;
  };
  it('a block inherits each list only when it has none of its own; expires off stops expires', () => {
    expect(loc('/a').headers.add?.map((a) => a.name)).toEqual(['X-Http']);
    expect(loc('/a').headers.expires).toEqual({ kind: 'after', seconds: 3600, modified: false });
    expect(loc('/b').headers.add).toEqual([expect.objectContaining({ name: 'X-B', value: 'b', always: true })]);
    expect(loc('/b').headers.expires).toBeUndefined();
    expect(loc('/c').headers.moreOutput).toEqual([{ statuses: [], types: [], headers: [{ name: 'X-M', value: '', prefix: false }] }]);
    expect(loc('/c/d').headers.moreOutput).toEqual(loc('/c').headers.moreOutput);
    expect(loc('/b').headers.moreOutput?.[0].headers[0]).toEqual({ name: 'X-M', value: 'http', prefix: false });
  });
  it('a location if with add_header of its own replaces its location\'s list', () => {
    const op = loc('/e').rewriteOps[0];
    expect(op.op === 'if' && op.loc?.headers.add?.map((a) => a.name)).toEqual(['X-If']);
  });
  it('charset_types replaces the default list but keeps text/html; * is any type', () => {
    const c = load('http { charset utf-8; server { location /a { charset_types application/json; } location /b { charset_types *; } location /c { } } }');
    const [a, b, cc] = c.http!.servers[0].locations;
    expect(a.headers.charset).toEqual({ name: 'utf-8', types: ['text/html', 'application/json'] });
    expect(b.headers.charset?.types).toEqual(['*']);
    expect(cc.headers.charset?.types).toContain('text/plain');
  });
  it('a conf without these directives has empty header settings (the native plan relies on it)', () => {
    const c = load('http { server { location / { } } }');
    expect(c.http!.servers[0].locations[0].headers).toEqual({});
    expect(c.http!.servers[0].defaults.headers).toEqual({});
  });
});

describe('gzip directives', () => {
  const cases: Array<[string, RegExp]> = [
    ['gzip maybe;', /it must be "on" or "off" in .*:4$/],
    ['gzip_comp_level 10;', /^value must be between 1 and 9 in .*:4$/],
    ['gzip_comp_level x;', /"gzip_comp_level" directive invalid number in .*:4$/],
    ['gzip_min_length 1q;', /"gzip_min_length" directive invalid value in .*:4$/],
    ['gzip_proxied sometimes;', /^invalid value "sometimes" in .*:4$/],
    ['gzip_http_version 2.0;', /^invalid value "2.0" in .*:4$/],
    ['gzip_disable "(";', /invalid regex "\(" in "gzip_disable" directive/],
    ['gzip_buffers 0 8k;', /^"gzip_buffers" directive invalid value in .*:4$/],
    ['gzip_buffers 4 x;', /^"gzip_buffers" directive invalid value in .*:4$/],
    ['gzip_static sometimes;', /^invalid value "sometimes" in .*:4$/],
  ];
  for (const [d, msg] of cases) {
    it(d, () => {
      const e = errorOf(inLocation(d));
      expect(e.code).toBe('TRESTY_ERR_CONF_VALUE');
      expect(e.message).toMatch(msg);
    });
  }
  // The same words from nginx -t (but the regex error: PCRE's text is not JS's).
  it.skipIf(nginxMissing() !== null)('nginx -t says the same', () => {
    for (const [d, msg] of cases) {
      if (d.startsWith('gzip_disable')) continue;
      expect(nginxConfError(`location / { ${d} }`), d).toMatch(new RegExp(msg.source.replace(/^\^/, '').replace(/ in \.\*:4\$$/, '')));
    }
  });
  it('nginx\'s defaults; settings inherit; gzip off leaves no filter; gzip_static alone works', () => {
    const c = load(`http { gzip_comp_level 5; gzip_buffers 16 8k; server {
      location /a { gzip on; } location /b { gzip on; gzip_types text/css *; gzip_disable msie6 "^curl"; gzip_proxied any; }
      location /c { gzip_vary on; } location /d { gzip_static on; } } }`);
    const [a, b, cc, d] = c.http!.servers[0].locations;
    expect(a.gzip).toEqual({ filter: { types: ['text/html'], minLength: 20, level: 5, vary: false, proxied: ['off'], httpVersion: '1.1', disableMsie6: false, disable: [], bufferSize: 8192 } });
    expect(b.gzip.filter).toMatchObject({ types: ['*'], disableMsie6: true, proxied: ['any'] });
    expect(b.gzip.filter?.disable[0].flags).toBe('i');
    expect(cc.gzip).toEqual({});
    expect(d.gzip).toEqual({ static: { mode: 'on', rules: expect.objectContaining({ vary: false, proxied: ['off'] }) } });
  });
});

describe('static-file directives: etag, if_modified_since, alias', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['etag maybe;', 'TRESTY_ERR_CONF_VALUE', /it must be "on" or "off" in .*:4$/],
    ['if_modified_since later;', 'TRESTY_ERR_CONF_VALUE', /invalid value "later" in "if_modified_since" directive, it must be "off", "exact" or "before" in .*:4$/],
    ['root /a; alias /b;', 'TRESTY_ERR_CONF_DUPLICATE', /"alias" directive is duplicate in .*:4$/],
    ['alias /b; root /a;', 'TRESTY_ERR_CONF_DUPLICATE', /"root" directive is duplicate in .*:4$/],
  ];
  for (const [d, code, msg] of cases) {
    it(d, () => {
      const e = errorOf(inLocation(d));
      expect(e.code).toBe(code);
      expect(e.message).toMatch(msg);
    });
  }
  it('alias is not allowed at server level; settings inherit, a nested root drops an inherited alias', () => {
    expect(errorOf('http { server { alias /x/; } }').code).toBe('TRESTY_ERR_CONF_NOT_ALLOWED');
    const conf = load(`http { etag off; server {
      location /a/ { alias /srv/a/; location /a/b/ { } location /a/c/ { root /srv/c; } }
      location /d/ { etag on; if_modified_since before; }
    } }`);
    const a = conf.http!.servers[0].locations[0];
    expect(a.files).toEqual({ noEtag: true, alias: { path: '/srv/a/', strip: 3, regex: null } });
    expect(a.locations[0].files.alias?.path).toBe('/srv/a/');
    expect(a.locations[1].files.alias).toBeUndefined();
    expect(conf.http!.servers[0].locations[1].files).toEqual({ ims: 'before' });
  });
});
