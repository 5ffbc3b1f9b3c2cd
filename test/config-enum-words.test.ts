// nginx's enum directives say only `invalid value "X"` (their slot names no directive and lists no
// choices): tresty's words are the same, checked against nginx -t.
import { describe, expect, it } from 'vitest';
import { confErrorOf, serverConf } from './helpers/conf-load.js';
import { nginxConfError, nginxMissing } from './helpers/nginx.js';

const errs: Array<[string, RegExp]> = [
  ['lingering_close sometimes;', /^invalid value "sometimes" in \S+:3$/],
  ['location / { gzip_static sometimes; }', /^invalid value "sometimes" in \S+:3$/],
  ['location / { gzip_http_version 2.0; }', /^invalid value "2\.0" in \S+:3$/],
  ['location / { gzip_proxied sometimes; }', /^invalid value "sometimes" in \S+:3$/],
];

describe('enum directives\' errors, as nginx -t', () => {
  it('tresty', () => {
    for (const [c, re] of errs) expect(confErrorOf(serverConf(c)).message, c).toMatch(re);
  });
  it.skipIf(nginxMissing() !== null)('nginx', () => {
    for (const [c, re] of errs) expect(nginxConfError(c), c).toMatch(new RegExp(re.source.replace(/^\^/, '').replace(/ in \\S\+:3\$$/, '')));
  });
});
