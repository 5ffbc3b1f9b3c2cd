// nginx's random_index: a folder's URI is redirected internally to one of its files picked at
// random (dot files and folders skipped, the args kept); a folder without a file goes on to index
// and autoindex; one that cannot be opened is 404 with nginx's opendir() line. On the native
// engine, node:http and nginx 1.22.
import { describe, expect, it } from 'vitest';
import { compatSuite } from './helpers/compat.js';
import { confErrorOf, serverConf } from './helpers/conf-load.js';
import { nginxConfError, nginxMissing } from './helpers/nginx.js';
import { type Case, phaseSuite } from './helpers/phases-harness.js';

const files = {
  'html/r/a.txt': 'one\n',
  'html/r/b.txt': 'two\n',
  'html/r/.h': 'hidden\n',
  'html/r/sub/x.txt': 'x\n',
  'html/q/a.txt': 'one\n',
  'html/q/b.txt': 'two\n',
  'html/e/.only': 'dot\n',
  'html/i/.x': 'dot\n',
  'html/i/index.html': 'IDX\n',
};

const conf = `location /r/ { random_index on; }
    location /q/ { random_index on; location ~ \\.txt$ { return 200 "$uri?$args\\n"; } }
    location /e/ { random_index on; autoindex on; }
    location /i/ { random_index on; }
    location /nx/ { random_index on; }
    location /off/ { random_index off; }`;

const pick = /^(one|two)\n$/;
const cases: Case[] = [{
  name: 'a random file, args kept, no file: index or autoindex, a missing folder: 404',
  conf, lua: conf,
  requests: [
    ...Array.from({ length: 6 }, () => ({ path: '/r/', status: 200, resBody: pick })),
    { path: '/q/?a=1', status: 200, resBody: /^\/q\/[ab]\.txt\?a=1\n$/ },
    { path: '/e/', status: 200, resBody: /<h1>Index of \/e\/<\/h1><hr><pre><a href="\.\.\/">\.\.\/<\/a>\r\n<\/pre>/ },
    { path: '/i/', status: 200, resBody: 'IDX\n' },
    { path: '/nx/', status: 404 },
  ],
  errorLog: [/opendir\(\) "\S+\/html\/nx" failed \(2: No such file or directory\)/],
}];

compatSuite('random_index', { files }, cases);
phaseSuite('random_index on node:http', { http: 'http_engine node;', files }, cases);

describe('random_index conf errors, as nginx -t', () => {
  const errs: Array<[string, RegExp]> = [
    ['random_index on;', /^"random_index" directive is not allowed here in \S+:3$/],
    ['location / { random_index maybe; }', /^invalid value "maybe" in "random_index" directive, it must be "on" or "off" in \S+:3$/],
  ];
  it('tresty', () => {
    for (const [c, re] of errs) expect(confErrorOf(serverConf(c)).message, c).toMatch(re);
  });
  it.skipIf(nginxMissing() !== null)('nginx', () => {
    for (const [c, re] of errs) expect(nginxConfError(c), c).toMatch(new RegExp(re.source.replace(/^\^/, '').replace(/ in \\S\+:3\$$/, '')));
  });
});
