// autoindex_* and stub_status as the conf loader reads them: what they resolve to (nothing at
// nginx's defaults, so such locations stay native), how they inherit, and nginx 1.22's messages
// for the mistakes (checked with nginx -t), ending `in FILE:LINE`.
import { describe, expect, it } from 'vitest';
import { confErrorOf, loadConfText, serverConf } from './helpers/conf-load.js';

const load = (conf: string) => loadConfText(conf, { inConf: true });
const errorOf = (conf: string) => confErrorOf(conf, { inConf: true });

describe('autoindex and stub_status in the conf', () => {
  it('resolve to the files settings; defaults leave nothing; autoindex inherits, stub_status does not', () => {
    const c = load(serverConf(`autoindex on;
      location /a/ { autoindex_format jsonp; autoindex_exact_size off; autoindex_localtime on; }
      location /b/ { autoindex off; autoindex_format html; autoindex_exact_size on; }
      location /s { stub_status; location /s/in { } }
      location = /s2 { stub_status on; }
      location = /s3 { stub_status off; }`));
    const [a, b, s, s2, s3] = c.http!.servers[0]!.locations;
    expect(a!.files).toEqual({ autoindex: true, autoindexFormat: 'jsonp', autoindexRounded: true, autoindexLocaltime: true });
    expect(b!.files).toEqual({});
    expect(s!.files).toEqual({ autoindex: true, stubStatus: true });
    expect(s!.locations[0]!.files).toEqual({ autoindex: true });
    // nginx 1.22 ignores stub_status's argument: `off` turns it on as well.
    expect(s2!.files.stubStatus).toBe(true);
    expect(s3!.files.stubStatus).toBe(true);
  });

  it('bad values and places give nginx\'s messages with file:line', () => {
    expect(errorOf(serverConf('location / { autoindex maybe; }'))).toMatchObject({ code: 'TRESTY_ERR_CONF_VALUE',
      message: expect.stringMatching(/^invalid value "maybe" in "autoindex" directive, it must be "on" or "off" in .*nginx\.conf:\d+$/) });
    expect(errorOf(serverConf('location / { autoindex_exact_size x; }')).message).toMatch(/^invalid value "x" in "autoindex_exact_size" directive, it must be "on" or "off" in /);
    expect(errorOf(serverConf('location / { autoindex_localtime 1; }')).message).toMatch(/^invalid value "1" in "autoindex_localtime" directive/);
    expect(errorOf(serverConf('location / { autoindex_format yaml; }'))).toMatchObject({ code: 'TRESTY_ERR_CONF_VALUE',
      message: expect.stringMatching(/^invalid value "yaml" in .*nginx\.conf:\d+$/) });
    expect(errorOf(serverConf('location / { stub_status a b; }'))).toMatchObject({ code: 'TRESTY_ERR_CONF_ARGS',
      message: expect.stringMatching(/^invalid number of arguments in "stub_status" directive in /) });
    expect(errorOf(serverConf('', 'stub_status;'))).toMatchObject({ code: 'TRESTY_ERR_CONF_NOT_ALLOWED',
      message: expect.stringMatching(/^"stub_status" directive is not allowed here in /) });
    expect(errorOf(serverConf('location / { autoindex on; autoindex off; }')).message).toMatch(/"autoindex" directive is duplicate/);
  });
});
